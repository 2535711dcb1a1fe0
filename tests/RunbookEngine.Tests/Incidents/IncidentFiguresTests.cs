using System.Globalization;
using RunbookEngine.Alerts;
using RunbookEngine.Incidents;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;

namespace RunbookEngine.Tests.Incidents;

/// <summary>The figures, timeline and draft of an incident built by hand, against arithmetic done by hand.</summary>
public sealed class IncidentFiguresTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-23T08:00:00Z", CultureInfo.InvariantCulture);

    [Fact]
    public void Of_AClosedIncidentWithAnApprovedRun_GivesEachFigureFromItsEvents()
    {
        var facts = Story();

        var figures = IncidentFigures.Of(facts);

        // Started 08:00 (earliest startsAt), received 08:02; runs start 08:03 and 08:05; alice picks up 08:10 and answers
        // 08:14; the disk run succeeds 08:04; the last resolution is 08:30.
        Assert.Equal(T0, figures.StartedAt);
        Assert.Equal(T0.AddMinutes(2), figures.DetectedAt);
        Assert.Equal(TimeSpan.FromMinutes(2), figures.TimeToDetect);
        Assert.Equal(TimeSpan.FromMinutes(1), figures.TimeToFirstAction);
        Assert.Equal(TimeSpan.FromMinutes(8), figures.TimeToAcknowledge);
        Assert.Equal(TimeSpan.FromMinutes(4), figures.TimeToRemediate);
        Assert.Equal(TimeSpan.FromMinutes(30), figures.TimeToResolve);
        // Human: 08:10 to 08:14 = 4. Automated: disk run 1 minute; restart run 08:05 to 08:16 = 11, less its 9-minute wait (08:05 to 08:14) = 2.
        Assert.Equal((4.0, 3.0), (figures.HumanMinutes, figures.AutomatedMinutes));
        Assert.Equal((3, 1, 2, 2), (figures.Alerts, figures.UnautomatedAlerts, figures.Runs, figures.SucceededRuns));
    }

    [Fact]
    public void Timeline_OfARunItsBudgetGateHeld_SaysWhatTheGateDecidedWhenTheRunWasQueued()
    {
        var story = Story();
        var gate = new RunbookEngine.Slos.BudgetGateDecision(
            "checkout-availability", "low", 5, 10, "confirm", true, T0.AddMinutes(4), T0.AddMinutes(5),
            "5% of the error budget of checkout-availability is left, below the gate's 10%: the run acts as confirm");
        var gated = story with { Runs = [story.Runs[0], story.Runs[1] with { BudgetGate = gate }] };

        var decided = Assert.Single(IncidentTimeline.Of(gated), e => e.Kind == IncidentEventKinds.BudgetGate);

        Assert.Equal((T0.AddMinutes(5), IncidentTimeline.Automation, "r2"), (decided.At, decided.Actor, decided.RunId));
        Assert.Equal("restart: budget gate: 5% of the error budget of checkout-availability is left, below the gate's 10%: the run acts as confirm", decided.Text);
        Assert.DoesNotContain(IncidentTimeline.Of(story), e => e.Kind == IncidentEventKinds.BudgetGate);
    }

    [Fact]
    public void Of_AnOpenIncidentNobodyActedOn_LeavesThoseFiguresOut()
    {
        var facts = Story() is var story ? story with
        {
            Incident = story.Incident with { State = IncidentState.Open, ClosedAt = null },
            Runs = [],
            Steps = new Dictionary<string, IReadOnlyList<StepOutcome>>(),
        } : null!;

        var figures = IncidentFigures.Of(facts);

        Assert.Equal((TimeSpan.FromMinutes(2), (TimeSpan?)null, (TimeSpan?)null, (TimeSpan?)null, (TimeSpan?)null),
            (figures.TimeToDetect, figures.TimeToFirstAction, figures.TimeToAcknowledge, figures.TimeToRemediate, figures.TimeToResolve));
        Assert.Equal((0.0, 0.0), (figures.HumanMinutes, figures.AutomatedMinutes));
    }

    [Fact]
    public void Of_ASenderWhoseClockRunsAhead_CountsDetectionAsInstant()
    {
        var story = Story();
        var ahead = story with { Alerts = [.. story.Alerts.Select(a => a with { Alert = a.Alert with { StartsAt = a.ReceivedAt.AddSeconds(5) } })] };

        Assert.Equal(TimeSpan.Zero, IncidentFigures.Of(ahead).TimeToDetect);
    }

    [Fact]
    public void Timeline_IsInTimeOrder_WithEachPersonAsTheActorOfTheirAnswer()
    {
        var timeline = IncidentTimeline.Of(Story());

        Assert.Equal(timeline.Select(e => e.At).Order(), timeline.Select(e => e.At));
        Assert.Equal(IncidentEventKinds.AlertStarted, timeline[0].Kind);
        Assert.Equal(IncidentEventKinds.IncidentClosed, timeline[^1].Kind);
        var answer = Assert.Single(timeline, e => e.Kind == IncidentEventKinds.StepAnswered);
        Assert.Equal(("alice", "restart › Approve: restart? approved: \"queue drained\"", "r2", 1), (answer.Actor, answer.Text, answer.RunId, answer.Step));
        Assert.Contains(timeline, e => e is { Kind: IncidentEventKinds.StepEnded, Text: "disk › free succeeded: freed 2 GiB" });
        Assert.Contains(timeline, e => e is { Kind: IncidentEventKinds.Decision, Text: "restart: started a run" });
    }

    [Fact]
    public void Excerpt_KeepsTheLastLine_CutToItsEnd()
    {
        Assert.Equal("done", IncidentTimeline.Excerpt("a\nb\n  done  \n\n"));
        Assert.Equal("", IncidentTimeline.Excerpt(""));
        var excerpt = IncidentTimeline.Excerpt(new string('x', 500) + "END");
        Assert.Equal(IncidentTimeline.ExcerptLength, excerpt.Length);
        Assert.EndsWith("xEND", excerpt, StringComparison.Ordinal);
        Assert.StartsWith("…", excerpt, StringComparison.Ordinal);
    }

    [Fact]
    public void Postmortem_FollowUps_ComeFromThePeoplesStepsAndTheUnautomatedAlerts()
    {
        var facts = Story();
        var draft = Postmortem.Of(facts, IncidentFigures.Of(facts), IncidentTimeline.Of(facts));

        Assert.Equal(
            [
                "Decide whether `restart` still needs the approval \"Approve: restart?\": if its record is good, let it act without one.",
                "Write a runbook for the alert `CheckoutErrors`: no runbook matched it, so a person handled it.",
            ],
            draft.FollowUps);
        Assert.Equal(["`restart` › Approve: restart? (approval): approved by alice, 4 minutes"], draft.People);
        Assert.Contains("## What still needed people", draft.ToMarkdown(), StringComparison.Ordinal);
        Assert.Equal(("30 s", "3 min 5 s", "2 h 10 min"), (Postmortem.Duration(TimeSpan.FromSeconds(30)), Postmortem.Duration(TimeSpan.FromSeconds(185)), Postmortem.Duration(TimeSpan.FromMinutes(130))));
    }

    [Fact]
    public void Postmortem_Markdown_OfHostileLabelsAndNames_RendersThemAsText()
    {
        const string hostile = "x\r\n## fake\u001b[31m <script>alert(1)</script> [x](javascript:alert(1)) `tick` | *b* _i_ !\u0085";
        var story = Story();
        var facts = story with
        {
            Incident = story.Incident with { Title = hostile, Service = hostile },
            Alerts = [.. story.Alerts.Select(a => a with { Alert = a.Alert with { Name = hostile, Source = hostile } })],
            Runs = [.. story.Runs.Select(r => r with { Runbook = "rb``x`" })],
            Steps = story.Steps.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<StepOutcome>)[.. kv.Value.Select(st => st with { Name = hostile, Actor = st.Actor == "alice" ? hostile : st.Actor })]),
        };

        var md = Postmortem.Of(facts, IncidentFigures.Of(facts), IncidentTimeline.Of(facts)).ToMarkdown();

        Assert.StartsWith("# Postmortem: x \\#\\# fake\\[31m \\<script\\>alert\\(1\\)\\</script\\> \\[x\\]\\(javascript:alert\\(1\\)\\) \\`tick\\` \\| \\*b\\* \\_i\\_ \\!", md, StringComparison.Ordinal);
        // Inside a code span the text is shown as it is; everywhere else it must be escaped.
        var outsideCode = System.Text.RegularExpressions.Regex.Replace(md, "(?<f>`+)(?!`).*?(?<!`)\\k<f>(?!`)", "");
        Assert.DoesNotContain("<script>", outsideCode, StringComparison.Ordinal);
        Assert.DoesNotContain("](javascript", outsideCode, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', md);
        Assert.DoesNotContain('\u0085', md);
        Assert.All(md.Split('\n').Where(l => l.StartsWith('#')), l => Assert.True(l.StartsWith("# Postmortem: ", StringComparison.Ordinal) || !l.Contains("fake", StringComparison.Ordinal), l));
        Assert.All(md.Split('\n').Where(l => l.StartsWith('|')), l => Assert.Equal(4, l.Replace("\\|", "", StringComparison.Ordinal).Count(c => c == '|')));
        Assert.Contains("``` rb``x` ```", md, StringComparison.Ordinal);
    }

    [Fact]
    public void MarkdownText_CodeSpans_OutlastEveryBacktickRun_AndStripControl_KeepsOnlyLineBreaks()
    {
        Assert.Equal("`a`", MarkdownText.Code("a"));
        Assert.Equal("``` a``b` ```", MarkdownText.Code("a``b`"));
        Assert.Equal("`` `x ``", MarkdownText.Code("`x"));
        Assert.Equal("`a\\|b c`", MarkdownText.Code("a|b\nc"));
        Assert.Equal("a[31mb\n\tc", MarkdownText.StripControl("a\u001b[31mb\n\tc\u009b\u0007"));
    }

    private static IncidentFacts Story()
    {
        var incident = new IncidentRecord("i1", "CheckoutDiskFull", "checkout", IncidentRules.GroupKey, "group-key:alertmanager:g", IncidentState.Closed, T0.AddMinutes(2), T0.AddMinutes(30), T0.AddMinutes(2), 3);
        AlertRecord Alert(string id, string name, int startMinute, AlertOutcome outcome, int resolvedMinute) => new(
            id, new RunbookAlert("alertmanager", name, AlertStatus.Firing, null, new Dictionary<string, string> { ["service"] = "checkout" }, new Dictionary<string, string>(), T0.AddMinutes(startMinute), null, "fp-" + id),
            "d1", "k-" + id, T0.AddMinutes(2), outcome, null, null, T0.AddMinutes(resolvedMinute), IncidentId: "i1");
        RunRecord Run(string id, string runbook, string alert, int queued, int started, int finished) => new(
            id, runbook, null, "h", RunTrigger.Alert, "alertmanager:x", "{}", RunStatus.Succeeded, 1, "n", null, T0.AddMinutes(queued), T0.AddMinutes(started), T0.AddMinutes(finished), null, null, alert, ManualMinutes: 10);
        return new IncidentFacts(
            incident,
            [Alert("a1", "CheckoutDiskFull", 0, AlertOutcome.Started, 20), Alert("a2", "CheckoutSlow", 1, AlertOutcome.Started, 25), Alert("a3", "CheckoutErrors", 1, AlertOutcome.Unautomated, 30)],
            [("a1", new AlertDecision("disk", AlertDecisionKind.Started, "r1", null, T0.AddMinutes(3))), ("a2", new AlertDecision("restart", AlertDecisionKind.Started, "r2", null, T0.AddMinutes(5)))],
            [Run("r1", "disk", "a1", 3, 3, 4), Run("r2", "restart", "a2", 5, 5, 16)],
            new Dictionary<string, IReadOnlyList<StepOutcome>>
            {
                ["r1"] = [new StepOutcome(1, "free", StepKind.Automated, StepStatus.Succeeded, T0.AddMinutes(3), T0.AddMinutes(4), 1, "looking\nfreed 2 GiB\n", null, StepOutcome.MachineActor)],
                ["r2"] =
                [
                    new StepOutcome(1, "Approve: restart?", StepKind.Approval, StepStatus.Succeeded, T0.AddMinutes(5), T0.AddMinutes(14), 1, "", null, "alice", PickedUpAt: T0.AddMinutes(10), Comment: "queue drained"),
                    new StepOutcome(2, "restart", StepKind.Automated, StepStatus.Succeeded, T0.AddMinutes(14), T0.AddMinutes(16), 1, "restarted", null, StepOutcome.MachineActor),
                ],
            });
    }
}
