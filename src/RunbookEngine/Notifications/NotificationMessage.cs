using RunbookEngine.Runs;

namespace RunbookEngine.Notifications;

/// <summary>What a channel is given to say: the delivery, and the run as it stands when it is delivered.</summary>
/// <param name="Delivery">The outbox row being delivered.</param>
/// <param name="Run">The run it is about, read at delivery, if any.</param>
/// <param name="WaitingStep">The step a waiting run asks a person about: its sequence and prompt.</param>
/// <param name="Link">The run's (or runbook's) page on the dashboard, when the dashboard's address is configured.</param>
public sealed record NotificationMessage(NotificationRecord Delivery, RunRecord? Run, (int Sequence, string Name)? WaitingStep, Uri? Link)
{
    /// <summary>One line a person reads first, in every channel.</summary>
    public string Title => Delivery.Event switch
    {
        "failed" => $"Run of {Delivery.Runbook} failed",
        "timed_out" => $"Run of {Delivery.Runbook} timed out",
        "waiting" => $"Run of {Delivery.Runbook} waits for a person",
        "succeeded" => $"Run of {Delivery.Runbook} succeeded",
        "breaker_opened" => $"Circuit breaker of {Delivery.Runbook} opened: its alerts start no runs",
        "catalog_broken" => Delivery.Runbook is { } name ? $"Runbook {name} stopped compiling" : "Catalog sync failed",
        "incident_opened" => "Incident opened",
        "incident_closed" => "Incident closed: all its alerts resolved",
        _ => $"{Delivery.Event}: {Delivery.Runbook}",
    };

    /// <summary>The lines under the title: what happened, the run, the waiting step.</summary>
    public string Text
    {
        get
        {
            var lines = new List<string>();
            if (Run is not null)
            {
                lines.Add($"Run {Run.Id} ({Run.Trigger} by {Run.TriggeredBy}) is {Run.Status}.");
            }

            if (WaitingStep is { } step)
            {
                lines.Add($"Step {step.Sequence} asks: {step.Name}");
            }

            if (!string.IsNullOrWhiteSpace(Delivery.Detail))
            {
                lines.Add(Delivery.Detail);
            }

            if (Link is not null)
            {
                lines.Add(Link.ToString());
            }

            return string.Join('\n', lines);
        }
    }
}
