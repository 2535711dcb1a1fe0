using Microsoft.Extensions.Options;
using RunbookEngine.Sdk;
using RunbookEngine.Trust;
using RunbookEngine.Trust.Modes;

namespace RunbookEngine.Tests.Trust;

public sealed class TrustRecordsTests
{
    private static readonly TrustOptions Thresholds = new() { ShadowToConfirmAfter = 3, ConfirmToAutoAfter = 2 };

    [Fact]
    public void Suggest_Confirm_WhenEnoughProposalsWereJudgedRight()
    {
        var (text, mode) = TrustRecords.Suggest(RunMode.Shadow, TrustCounts.None("prune") with { Proposals = 4, Agreed = 3, AwaitingVerdict = 1, AgreedSinceDisagreed = 3 }, Thresholds);

        Assert.Equal(("4 proposals, 3 agreed: consider `confirm`", RunMode.Confirm), (text, mode));
    }

    [Fact]
    public void Suggest_Confirm_CountsOnlyTheAgreementsSinceTheLastDisagreement()
    {
        var counts = TrustCounts.None("prune") with { Proposals = 6, Agreed = 5, Disagreed = 1 };

        var tooFew = TrustRecords.Suggest(RunMode.Shadow, counts with { AgreedSinceDisagreed = 2 }, Thresholds);
        var enough = TrustRecords.Suggest(RunMode.Shadow, counts with { AgreedSinceDisagreed = 3 }, Thresholds);

        Assert.Equal((null, null), tooFew);
        Assert.Equal(("3 proposals agreed since the last one judged wrong (6 proposals, 5 agreed, 1 disagreed): consider `confirm`", RunMode.Confirm), enough);
    }

    [Fact]
    public void Suggest_Auto_OnlyToARunbookInConfirmMode()
    {
        var counts = TrustCounts.None("restart") with { Approved = 2, ApprovedSinceRejected = 2, Proposals = 9, Agreed = 9, AgreedSinceDisagreed = 9 };

        Assert.Equal(("2 confirmations, 2 approved: consider `auto`", RunMode.Auto), TrustRecords.Suggest(RunMode.Confirm, counts, Thresholds));
        Assert.Equal((null, null), TrustRecords.Suggest(RunMode.Auto, counts, Thresholds));
    }

    [Fact]
    public void Of_NeverSuggestsWithoutARecord()
    {
        var records = new TrustRecords(null!, Options.Create(new RunbookEngineOptions()), TimeProvider.System);

        var record = records.Of(RunMode.Shadow, TrustCounts.None("new"));

        Assert.Equal((RunMode.Shadow, null, 0L), (record.Mode, record.Suggestion, record.Shadow.Proposals));
    }
}
