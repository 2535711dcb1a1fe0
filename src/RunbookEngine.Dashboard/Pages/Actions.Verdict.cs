using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RunbookEngine.Trust.Modes;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>A verdict on a shadow run's proposal, from its page.</summary>
internal static partial class Actions
{
    public static async Task<IResult> VerdictAsync(string id, HttpContext context, ProposalVerdicts verdicts, ILogger<DashboardLog> log, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var verdict = form["verdict"].ToString();
        return await ActAsync(context, $"/runs/{id}", log, async who =>
        {
            if (verdict is not ("right" or "wrong"))
            {
                return (false, "choose whether doing what it proposed would have been right or wrong");
            }

            var comment = form["comment"].ToString() is { Length: > 0 } c ? c : null;
            var result = await verdicts.RecordAsync(id, verdict == "right", who, comment, cancellationToken);
            return result.Problem == VerdictProblem.None ? (true, $"verdict recorded: would have been {verdict}") : (false, result.Message!);
        });
    }
}
