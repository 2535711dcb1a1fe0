using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Trust.Freshness;

namespace RunbookEngine.Tests.Trust;

/// <summary>The freshness rules on a fake clock: what makes a runbook stale, aging or fresh, and the reasons it gives.</summary>
public sealed class FreshnessRulesTests
{
    private static readonly FreshnessOptions Options = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-05T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private DateTimeOffset Now => _time.GetUtcNow();

    private static RunbookDefinition Owned(DateOnly? reviewBy = null) => new() { Description = "d", Owner = "sre", ReviewBy = reviewBy };

    private FreshnessFacts Proven(TimeSpan ago) => new("disk", LastSuccessAt: Now - ago, FirstSeenAt: Now - TimeSpan.FromDays(400));

    [Fact]
    public void Evaluate_IsFresh_WhenOwnedAndProvenRecently()
    {
        var freshness = FreshnessRules.Evaluate(Owned(), Proven(TimeSpan.FromDays(2)), Options, Now);

        Assert.Equal(FreshnessState.Fresh, freshness.State);
        Assert.Empty(freshness.Reasons);
        Assert.Equal(("fresh", "sre", Now - TimeSpan.FromDays(2)), (freshness.StateName, freshness.Facts.Owner, freshness.Facts.LastSuccessAt));
    }

    [Fact]
    public void Evaluate_IsStale_WhenTheLatestDrillFailed_QuotingItsError()
    {
        var facts = Proven(TimeSpan.FromDays(1)) with
        {
            LastPassingDrillAt = Now - TimeSpan.FromDays(8),
            LastFailingDrillAt = Now - TimeSpan.FromDays(1),
            LastFailingDrillRunId = "run-9",
            LastFailingDrillError = "cannot start `probe-disk`: No such file or directory",
        };

        var freshness = FreshnessRules.Evaluate(Owned(), facts, Options, Now);

        Assert.Equal(FreshnessState.Stale, freshness.State);
        Assert.Equal(["the latest drill failed at 2026-12-04 10:00 UTC (run run-9): cannot start `probe-disk`: No such file or directory"], freshness.Reasons);
    }

    [Fact]
    public void Evaluate_IsFresh_WhenADrillPassedAfterTheOneThatFailed()
    {
        var facts = new FreshnessFacts("disk", LastPassingDrillAt: Now - TimeSpan.FromDays(1), LastFailingDrillAt: Now - TimeSpan.FromDays(2), LastFailingDrillError: "x");

        Assert.Equal(FreshnessState.Fresh, FreshnessRules.Evaluate(Owned(), facts, Options, Now).State);
    }

    [Fact]
    public void Evaluate_IsStale_TheDayAfterTheReviewDate_AndAgingWithinTheWarning()
    {
        var facts = Proven(TimeSpan.FromDays(1));
        var today = DateOnly.FromDateTime(Now.UtcDateTime);

        var due = FreshnessRules.Evaluate(Owned(today), facts, Options, Now);
        var soon = FreshnessRules.Evaluate(Owned(today.AddDays(14)), facts, Options, Now);
        var later = FreshnessRules.Evaluate(Owned(today.AddDays(15)), facts, Options, Now);
        var passed = FreshnessRules.Evaluate(Owned(today.AddDays(-1)), facts, Options, Now);

        Assert.Equal((FreshnessState.Aging, "its review_by date 2026-12-05 is today"), (due.State, Assert.Single(due.Reasons)));
        Assert.Equal((FreshnessState.Aging, "its review_by date 2026-12-19 is in 14 days"), (soon.State, Assert.Single(soon.Reasons)));
        Assert.Equal(FreshnessState.Fresh, later.State);
        Assert.Equal(FreshnessState.Stale, passed.State);
        Assert.Equal("its review_by date 2026-12-04 has passed: someone should check it still fits the systems it fixes, then set a new date", Assert.Single(passed.Reasons));
        Assert.Equal(today.AddDays(-1), passed.Facts.ReviewBy);
    }

    [Fact]
    public void Evaluate_AgesAndThenGoesStale_AsTheLastProofGetsOlder()
    {
        Assert.Equal(FreshnessState.Fresh, FreshnessRules.Evaluate(Owned(), Proven(TimeSpan.FromDays(30)), Options, Now).State);

        var aging = FreshnessRules.Evaluate(Owned(), Proven(TimeSpan.FromDays(31)), Options, Now);
        var stale = FreshnessRules.Evaluate(Owned(), Proven(TimeSpan.FromDays(91)), Options, Now);

        Assert.Equal(FreshnessState.Aging, aging.State);
        Assert.Equal("no successful run or passing drill since 2026-11-04 10:00 UTC, 31 days ago (aging after 30d)", Assert.Single(aging.Reasons));
        Assert.Equal(FreshnessState.Stale, stale.State);
        Assert.Equal("nothing has proven it works for 91 days: no successful run or passing drill since 2026-09-05 10:00 UTC (stale after 90d)", Assert.Single(stale.Reasons));
    }

    [Fact]
    public void Evaluate_CountsAPassingDrillAsProof()
    {
        var facts = new FreshnessFacts("disk", LastSuccessAt: Now - TimeSpan.FromDays(200), LastPassingDrillAt: Now - TimeSpan.FromDays(3));

        Assert.Equal(FreshnessState.Fresh, FreshnessRules.Evaluate(Owned(), facts, Options, Now).State);
    }

    [Fact]
    public void Evaluate_OfARunbookJustAdded_IsAgingNeverProven_NotStale()
    {
        var facts = new FreshnessFacts("disk", FirstSeenAt: Now - TimeSpan.FromHours(1));

        var freshness = FreshnessRules.Evaluate(Owned(), facts, Options, Now);

        Assert.Equal(FreshnessState.Aging, freshness.State);
        Assert.Equal("never proven: no successful run or passing drill since it appeared on 2026-12-05", Assert.Single(freshness.Reasons));
        Assert.Equal(FreshnessState.Aging, FreshnessRules.Evaluate(Owned(), null, Options, Now).State);
    }

    [Fact]
    public void Evaluate_OfARunbookNeverProvenSinceLongAgo_IsStale()
    {
        var facts = new FreshnessFacts("disk", FirstSeenAt: Now - TimeSpan.FromDays(100));

        var freshness = FreshnessRules.Evaluate(Owned(), facts, Options, Now);

        Assert.Equal(FreshnessState.Stale, freshness.State);
        Assert.StartsWith("never proven: no successful run or passing drill since it appeared on 2026-08-27, 100 days ago", Assert.Single(freshness.Reasons), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_IsAging_WithoutAnOwner()
    {
        var freshness = FreshnessRules.Evaluate(new RunbookDefinition { Description = "d" }, Proven(TimeSpan.FromDays(1)), Options, Now);

        Assert.Equal(FreshnessState.Aging, freshness.State);
        Assert.Equal("it has no owner: add `owner:` so someone answers for it when it breaks", Assert.Single(freshness.Reasons));
        Assert.Null(freshness.Facts.Owner);
    }

    [Fact]
    public void Evaluate_ListsStaleReasonsBeforeAgingOnes()
    {
        var facts = Proven(TimeSpan.FromDays(40)) with { LastFailingDrillAt = Now - TimeSpan.FromDays(1), LastFailingDrillError = "404" };
        var definition = new RunbookDefinition { Description = "d", ReviewBy = DateOnly.FromDateTime(Now.UtcDateTime).AddDays(-3) };

        var freshness = FreshnessRules.Evaluate(definition, facts, Options, Now);

        Assert.Equal(FreshnessState.Stale, freshness.State);
        Assert.Equal(4, freshness.Reasons.Count);
        Assert.StartsWith("the latest drill failed", freshness.Reasons[0], StringComparison.Ordinal);
        Assert.StartsWith("its review_by date", freshness.Reasons[1], StringComparison.Ordinal);
        Assert.StartsWith("no successful run", freshness.Reasons[2], StringComparison.Ordinal);
        Assert.StartsWith("it has no owner", freshness.Reasons[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_FollowsTheConfiguredThresholds()
    {
        var strict = new FreshnessOptions { AgingAfter = TimeSpan.FromDays(1), StaleAfter = TimeSpan.FromDays(7), ReviewWarning = TimeSpan.Zero };

        Assert.Equal(FreshnessState.Aging, FreshnessRules.Evaluate(Owned(), Proven(TimeSpan.FromDays(2)), strict, Now).State);
        Assert.Equal(FreshnessState.Stale, FreshnessRules.Evaluate(Owned(), Proven(TimeSpan.FromDays(8)), strict, Now).State);
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(FreshnessState.Fresh, FreshnessRules.Evaluate(Owned(DateOnly.FromDateTime(Now.UtcDateTime).AddDays(1)), Proven(TimeSpan.Zero), strict, Now).State);
    }
}
