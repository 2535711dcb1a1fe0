using System.Text.RegularExpressions;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Sdk;

namespace RunbookEngine.Runs;

/// <summary>Renders a runbook's <c>concurrency:</c> template, e.g. <c>disk:{{ params.path }}</c>, for one run.</summary>
public static partial class ConcurrencyKey
{
    /// <summary>The key, prefixed with the runbook so that keys of different runbooks never collide.</summary>
    /// <param name="runbook">The runbook's name.</param>
    /// <param name="template">The template from the front matter.</param>
    /// <param name="parameters">The run's parameter values as text.</param>
    /// <param name="alert">The alert that started the run, if any.</param>
    /// <returns>The rendered key.</returns>
    public static string Render(string runbook, string template, IReadOnlyDictionary<string, string?> parameters, RunbookAlert? alert)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(parameters);
        var rendered = Reference().Replace(template, match =>
        {
            var reference = match.Groups["ref"].Value;
            if (reference.StartsWith("params.", StringComparison.Ordinal))
            {
                return parameters.TryGetValue(reference["params.".Length..], out var value) ? value ?? "" : "";
            }

            return alert is null ? "" : ParameterBinder.FromAlert(alert, reference) ?? "";
        });
        return $"{runbook}:{rendered}";
    }

    [GeneratedRegex(@"\{\{\s*(?<ref>[^}]*?)\s*\}\}")]
    private static partial Regex Reference();
}
