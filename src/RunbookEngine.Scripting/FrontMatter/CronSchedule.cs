using System.Globalization;
using System.Text.RegularExpressions;
using Cronos;

namespace RunbookEngine.Scripting.FrontMatter;

/// <summary>
/// A five-field cron schedule (minute hour day-of-month month day-of-week, UTC) or a macro such as <c>@daily</c>.
/// Cronos parses and evaluates it because Cronos is what Hangfire evaluates recurring jobs with, so a schedule that
/// validates here fires at the times shown here. It lives outside the scheduler so <c>runbook validate</c> needs none.
/// </summary>
public sealed partial class CronSchedule
{
    private static readonly string[] FieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"];
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    // Cronos's own macros, minus @every_second: a schedule fires at most once a minute. The expansions are Cronos's;
    // the scheduler is given the expansion, so it never depends on its own reading of a macro.
    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
        ["@every_minute"] = "* * * * *",
    };

    // Cronos names fields in its messages its own way; ours are the names the README uses.
    private static readonly Dictionary<string, int> CronosFields = new(StringComparer.Ordinal)
    {
        ["Minutes"] = 0, ["Hours"] = 1, ["Days of month"] = 2, ["Months"] = 3, ["Days of week"] = 4,
    };

    private readonly CronExpression _cron;
    private readonly string _cronos;

    private CronSchedule(string expression, CronExpression cron, string cronos)
    {
        Expression = expression;
        _cron = cron;
        _cronos = cronos;
    }

    /// <summary>The expression as written.</summary>
    public string Expression { get; }

    /// <summary>Parses a schedule.</summary>
    /// <param name="expression">Five fields, or a macro.</param>
    /// <param name="schedule">The schedule, when valid.</param>
    /// <param name="error">What is wrong, when not.</param>
    /// <returns>True when valid.</returns>
    public static bool TryParse(string expression, out CronSchedule? schedule, out string? error)
    {
        schedule = null;
        var text = expression.Trim();
        string[] fields;
        if (text.StartsWith('@'))
        {
            if (text.Equals("@every_second", StringComparison.OrdinalIgnoreCase))
            {
                error = $"'{text}' fires every second; a schedule fires at most once a minute, e.g. \"* * * * *\"";
                return false;
            }

            if (!Macros.TryGetValue(text, out var expanded))
            {
                error = $"'{expression}' is not a known macro; use @hourly, @daily, @weekly, @monthly or @yearly";
                return false;
            }

            fields = expanded.Split(' ');
        }
        else
        {
            // Cronos separates fields by spaces and tabs only.
            fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        }

        // Cronos would blame whichever field it was reading when the text ran out or went on.
        if (fields.Length != 5)
        {
            error = $"'{expression}' has {fields.Length} field{(fields.Length == 1 ? "" : "s")}; a schedule has 5: minute hour day-of-month month day-of-week, e.g. \"0 */6 * * *\"";
            return false;
        }

        // Cronos reports a zero step as a value out of range, which reads as if the value before the '/' were wrong.
        for (var i = 0; i < 5; i++)
        {
            if (HasBadStep(fields[i]))
            {
                error = $"{FieldNames[i]} '{fields[i]}': the step after '/' must be a positive number";
                return false;
            }
        }

        CronExpression cron;
        try
        {
            cron = CronExpression.Parse(text, CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            error = Explain(text, fields, e.Message);
            return false;
        }
        catch (MissingSeedException)
        {
            error = $"'{text}' uses H (a value chosen by hashing), which needs a seed the scheduler does not give; write the value, e.g. \"17 * * * *\"";
            return false;
        }

        if (!IsAny(fields[2]) && !IsAny(fields[4]))
        {
            error = $"'{text}' restricts both day-of-month and day-of-week; set one of them to *";
            return false;
        }

        schedule = new CronSchedule(text, cron, string.Join(' ', fields));
        error = null;
        return true;
    }

    /// <summary>
    /// The five fields the scheduler is given (a macro expanded, fields one space apart): Hangfire reads them with
    /// Cronos, as <see cref="NextOccurrence"/> does, so a schedule fires exactly when the API, the dashboard and the CLI say.
    /// </summary>
    /// <returns>The expression.</returns>
    public string ToCronosExpression() => _cronos;

    /// <summary>The first time after <paramref name="after"/> the schedule fires (UTC, whole minutes), or null when it never does.</summary>
    /// <param name="after">The time to search from.</param>
    /// <returns>The next occurrence.</returns>
    public DateTimeOffset? NextOccurrence(DateTimeOffset after) =>
        _cron.GetNextOccurrence(after.UtcDateTime) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : null;

    /// <inheritdoc />
    public override string ToString() => Expression;

    private static bool IsAny(string field) => field is "*" or "?";

    private static bool HasBadStep(string field) =>
        field.Split(',').Any(item => item.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0
            && !(int.TryParse(item.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var step) && step > 0));

    private static string Explain(string text, string[] fields, string message)
    {
        var match = CronosMessage().Match(message);
        if (!match.Success)
        {
            return $"'{text}' is not a valid schedule: {message}";
        }

        var detail = match.Groups["detail"].Value.TrimEnd('.');
        if (!CronosFields.TryGetValue(match.Groups["field"].Value, out var index))
        {
            return $"'{text}' is not a valid schedule: {LowerFirst(detail)}";
        }

        var where = $"{FieldNames[index]} '{fields[index]}' in '{text}'";
        var range = CronosRange().Match(detail);
        if (!range.Success)
        {
            return $"{where}: {LowerFirst(detail)}";
        }

        var names = index switch
        {
            3 => " or a name such as JAN",
            4 => " or a name such as MON",
            _ => "",
        };
        return $"{where} must be a number from {range.Groups["low"].Value} to {range.Groups["high"].Value}{names}";
    }

    private static string LowerFirst(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];


    private static bool TryValue(int field, string item, ref int at, out int value)
    {
        var start = at;
        while (at < item.Length && char.IsAsciiDigit(item[at]))
        {
            at++;
        }

        if (at > start)
        {
            return int.TryParse(item.AsSpan(start, at - start), NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        var names = field == 3 ? MonthNames : field == 4 ? DayNames : null;
        value = names is null || item.Length < start + 3 ? -1 : Array.IndexOf(names, item.Substring(start, 3));
        if (value < 0)
        {
            return false;
        }

        at = start + 3;
        value += field == 3 ? 1 : 0;
        return true;
    }

    [GeneratedRegex(@"^The given cron expression has an invalid format\. (?:(?<field>[A-Za-z ]+): )?(?<detail>.*)$")]
    private static partial Regex CronosMessage();

    [GeneratedRegex(@"^Value must be a number between (?<low>\d+) and (?<high>\d+) \(all inclusive\)$")]
    private static partial Regex CronosRange();
}
