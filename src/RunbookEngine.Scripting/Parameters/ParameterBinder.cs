using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Parameters;

/// <summary>
/// Turns supplied text values, the triggering alert and declared defaults into typed parameters, in that order of
/// precedence, reporting every problem at once.
/// </summary>
public static class ParameterBinder
{
    /// <summary>Binds parameters for a run.</summary>
    /// <param name="definition">The runbook's front matter.</param>
    /// <param name="supplied">Values given by a person or API call, as text.</param>
    /// <param name="alert">The alert that triggers the run, if any.</param>
    /// <returns>The typed parameters, or the errors, each naming its parameter.</returns>
    public static BindResult Bind(RunbookDefinition definition, IReadOnlyDictionary<string, string> supplied, RunbookAlert? alert)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(supplied);
        var errors = new List<string>();
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var unknown in supplied.Keys.Where(name => definition.Parameter(name) is null))
        {
            errors.Add(definition.Parameters.Count == 0
                ? $"parameter '{unknown}': the runbook declares no parameters"
                : $"parameter '{unknown}': not declared; the runbook takes {string.Join(", ", definition.Parameters.Select(p => p.Name))}");
        }

        foreach (var parameter in definition.Parameters)
        {
            string? text = null;
            if (supplied.TryGetValue(parameter.Name, out var given))
            {
                text = given;
            }
            else if (parameter.From is { } from && alert is not null)
            {
                text = FromAlert(alert, from);
            }

            if (text is null)
            {
                if (parameter.Default is not null)
                {
                    values[parameter.Name] = parameter.Default;
                }
                else if (parameter.Required)
                {
                    var where = parameter.From is null ? "" : $" (the alert has no {parameter.From})";
                    errors.Add($"parameter '{parameter.Name}': required, and no value was given{where}");
                }

                continue;
            }

            // A secret's value never appears in an error, even a wrong one.
            var shown = parameter.Secret ? "the value" : $"'{text}'";
            if (parameter.Values is { } allowed && !allowed.Contains(text))
            {
                errors.Add($"parameter '{parameter.Name}': {shown} is not one of {string.Join(", ", allowed)}");
            }
            else if (ParameterValue.TryConvert(parameter.Type, text, out var value, out var error))
            {
                values[parameter.Name] = value;
            }
            else
            {
                errors.Add($"parameter '{parameter.Name}': {(parameter.Secret ? error!.Replace($"'{text}'", shown, StringComparison.Ordinal) : error)}");
            }
        }

        var parameters = new RunbookParameters(values, definition.Parameters.Where(p => p.Secret).Select(p => p.Name));
        return new BindResult(errors.Count == 0 ? parameters : null, errors);
    }

    /// <summary>The value an alert gives for a <c>from:</c> reference, or null.</summary>
    /// <param name="alert">The alert.</param>
    /// <param name="reference"><c>labels.X</c>, <c>annotations.X</c> or <c>alert.FIELD</c>.</param>
    /// <returns>The value or null.</returns>
    public static string? FromAlert(RunbookAlert alert, string reference)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(reference);
        var dot = reference.IndexOf('.', StringComparison.Ordinal);
        var head = dot < 0 ? reference : reference[..dot];
        var tail = dot < 0 ? "" : reference[(dot + 1)..];
        return head switch
        {
            "labels" => alert.Label(tail),
            "annotations" => alert.Annotation(tail),
            "alert" => tail switch
            {
                "name" => alert.Name,
                "source" => alert.Source,
                "severity" => alert.Severity,
                "fingerprint" => alert.Fingerprint,
                "status" => alert.Status.ToString().ToLowerInvariant(),
                _ => null,
            },
            _ => null,
        };
    }
}

/// <summary>The outcome of binding.</summary>
/// <param name="Parameters">The typed parameters, or null when any is invalid.</param>
/// <param name="Errors">Each problem, naming its parameter.</param>
public sealed record BindResult(RunbookParameters? Parameters, IReadOnlyList<string> Errors);
