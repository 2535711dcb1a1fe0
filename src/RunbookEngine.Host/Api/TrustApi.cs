using System.Text.Json;
using RunbookEngine.Trust.Modes;

namespace RunbookEngine.Host.Api;

/// <summary>Verdicts on what shadow runs proposed; documented in docs/api.md. A runbook's record is on its own entry (<see cref="RunbookApi"/>).</summary>
internal static class TrustApi
{
    public static void MapTrustApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/runs/{id}/verdict", VerdictAsync);
    }

    private static async Task<IResult> VerdictAsync(string id, HttpRequest request, ProposalVerdicts verdicts, CancellationToken cancellationToken)
    {
        const string Shape = "the body must be a JSON object such as {\"right\": true, \"comment\": \"would have freed the disk\"}";
        bool right;
        string? comment = null, by = null;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return TypedResults.BadRequest(new ApiError(Shape));
            }

            if (!root.TryGetProperty("right", out var given) || given.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return TypedResults.BadRequest(new ApiError("\"right\" must be true (doing what it proposed would have been right) or false (it would have been wrong)"));
            }

            right = given.GetBoolean();
            if (root.TryGetProperty("comment", out var why) && why.ValueKind != JsonValueKind.Null)
            {
                if (why.ValueKind != JsonValueKind.String)
                {
                    return TypedResults.BadRequest(new ApiError("\"comment\" must be text"));
                }

                comment = why.GetString();
            }

            if (root.TryGetProperty("by", out var who) && who.ValueKind != JsonValueKind.Null)
            {
                if (who.ValueKind != JsonValueKind.String)
                {
                    return TypedResults.BadRequest(new ApiError("\"by\" must be the name of the person giving the verdict"));
                }

                by = who.GetString();
            }
        }
        catch (JsonException ex)
        {
            return TypedResults.BadRequest(new ApiError($"the body is not valid JSON ({ex.Message}); {Shape}"));
        }

        // A caller with a token gives the verdict under the token's name, whatever "by" says, as with answers to steps.
        var result = await verdicts.RecordAsync(id, right, ToilApi.Who(request.HttpContext, by), comment, cancellationToken);
        return result.Problem switch
        {
            VerdictProblem.None => TypedResults.Ok(new { runId = id, status = result.Run!.Status, proposal = result.Run.Proposal, verdict = result.Run.Verdict }),
            VerdictProblem.NotFound => TypedResults.NotFound(new ApiError(result.Message!)),
            VerdictProblem.Invalid => TypedResults.BadRequest(new ApiError(result.Message!)),
            _ => TypedResults.Conflict(new ApiError(result.Message!)),
        };
    }
}
