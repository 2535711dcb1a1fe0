namespace RunbookEngine.Sdk.Hosting;

/// <summary>Who may approve a confirm-mode run's first side effect: the front matter's <c>confirm:</c> block.</summary>
/// <param name="Role">A role the approver must hold; anyone when null.</param>
/// <param name="DifferentPerson">Whether the approver must be someone other than the person who started the run.</param>
/// <param name="Timeout">How long to wait for an answer; none when null.</param>
/// <param name="ManualMinutes">What deciding costs a person, for the toil report.</param>
public sealed record ConfirmSettings(string? Role = null, bool DifferentPerson = false, TimeSpan? Timeout = null, double? ManualMinutes = null);
