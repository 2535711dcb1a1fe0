using System.Globalization;

namespace RunbookEngine.Scripting.FrontMatter;

/// <summary>
/// A five-field cron schedule (minute hour day-of-month month day-of-week, UTC) or a macro such as <c>@daily</c>.
/// Parsed here rather than by the scheduler so <c>runbook validate</c> needs no scheduler.
/// </summary>
public sealed class CronSchedule
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private readonly bool[] _minutes;
    private readonly bool[] _hours;
    private readonly bool[] _days;
    private readonly bool[] _months;
    private readonly bool[] _weekdays;
    private readonly bool _anyDay;
    private readonly bool _anyWeekday;

    private CronSchedule(string expression, bool[][] fields, bool anyDay, bool anyWeekday)
    {
        Expression = expression;
        (_minutes, _hours, _days, _months, _weekdays) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
        _anyDay = anyDay;
        _anyWeekday = anyWeekday;
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
        if (Macros.TryGetValue(text, out var expanded))
        {
            text = expanded;
        }
        else if (text.StartsWith('@'))
        {
            error = $"'{expression}' is not a known macro; use @hourly, @daily, @weekly, @monthly or @yearly";
            return false;
        }

        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5)
        {
            error = $"'{expression}' has {parts.Length} field{(parts.Length == 1 ? "" : "s")}; a schedule has 5: minute hour day-of-month month day-of-week, e.g. \"0 */6 * * *\"";
            return false;
        }

        var specs = new (string Name, int Min, int Max, string[]? Names)[]
        {
            ("minute", 0, 59, null), ("hour", 0, 23, null), ("day-of-month", 1, 31, null), ("month", 1, 12, MonthNames), ("day-of-week", 0, 7, DayNames),
        };
        var fields = new bool[5][];
        for (var i = 0; i < 5; i++)
        {
            fields[i] = new bool[specs[i].Max + 1];
            if (!TryParseField(parts[i], specs[i], fields[i], out error))
            {
                return false;
            }
        }

        // Sunday is both 0 and 7.
        fields[4][0] |= fields[4][7];
        fields[4][7] = false;

        var anyDay = parts[2] == "*";
        var anyWeekday = parts[4] == "*";
        if (!anyDay && !anyWeekday)
        {
            error = $"'{expression}' restricts both day-of-month and day-of-week; set one of them to *";
            return false;
        }

        schedule = new CronSchedule(expression.Trim(), fields, anyDay, anyWeekday);
        error = null;
        return true;
    }

    /// <summary>The same schedule as a Quartz cron expression (seconds first, '?' for the unused day field, SUN=1).</summary>
    /// <returns>The Quartz expression.</returns>
    public string ToQuartzExpression()
    {
        var weekdays = _anyWeekday ? "?" : string.Join(',', Enumerable.Range(0, 7).Where(d => _weekdays[d]).Select(d => DayNames[d]));
        var days = _anyWeekday ? List(_days, 1) : "?";
        return $"0 {List(_minutes, 0)} {List(_hours, 0)} {days} {List(_months, 1)} {weekdays}";
    }

    /// <summary>The first time after <paramref name="after"/> the schedule fires (UTC, whole minutes), or null within five years.</summary>
    /// <param name="after">The time to search from.</param>
    /// <returns>The next occurrence.</returns>
    public DateTimeOffset? NextOccurrence(DateTimeOffset after)
    {
        var t = after.ToUniversalTime();
        t = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        var limit = t.AddYears(5);
        while (t < limit)
        {
            if (!_months[t.Month])
            {
                t = new DateTimeOffset(t.Year, t.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
            }
            else if (!DayMatches(t))
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero).AddDays(1);
            }
            else if (!_hours[t.Hour])
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
            }
            else if (!_minutes[t.Minute])
            {
                t = t.AddMinutes(1);
            }
            else
            {
                return t;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => Expression;

    private bool DayMatches(DateTimeOffset t) => (_anyDay || _days[t.Day]) && (_anyWeekday || _weekdays[(int)t.DayOfWeek]);

    private static string List(bool[] field, int min)
    {
        var values = Enumerable.Range(min, field.Length - min).Where(v => field[v]).ToList();
        return values.Count == field.Length - min ? "*" : string.Join(',', values);
    }

    private static bool TryParseField(string text, (string Name, int Min, int Max, string[]? Names) spec, bool[] into, out string? error)
    {
        foreach (var item in text.Split(','))
        {
            var rangeText = item;
            var step = 1;
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                rangeText = item[..slash];
                if (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step <= 0)
                {
                    error = $"{spec.Name} '{text}': the step after '/' must be a positive number";
                    return false;
                }
            }

            int low, high;
            if (rangeText == "*")
            {
                (low, high) = (spec.Min, spec.Name == "day-of-week" ? 6 : spec.Max);
            }
            else
            {
                var dash = rangeText.IndexOf('-', StringComparison.Ordinal);
                var lowText = dash >= 0 ? rangeText[..dash] : rangeText;
                if (!TryValue(lowText, spec, out low, out error))
                {
                    return false;
                }

                high = slash >= 0 && dash < 0 ? spec.Max : low;
                if (dash >= 0 && !TryValue(rangeText[(dash + 1)..], spec, out high, out error))
                {
                    return false;
                }

                if (high < low)
                {
                    error = $"{spec.Name} '{text}': the range {low}-{high} runs backwards";
                    return false;
                }
            }

            for (var v = low; v <= high; v += step)
            {
                into[v] = true;
            }
        }

        error = null;
        return true;
    }

    private static bool TryValue(string text, (string Name, int Min, int Max, string[]? Names) spec, out int value, out string? error)
    {
        error = null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            if (value >= spec.Min && value <= spec.Max)
            {
                return true;
            }

            error = $"{spec.Name} '{text}' is out of range {spec.Min}-{spec.Max}";
            return false;
        }

        var index = spec.Names is null ? -1 : Array.FindIndex(spec.Names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            value = index + (spec.Name == "month" ? 1 : 0);
            return true;
        }

        error = $"{spec.Name} '{text}' is not a number{(spec.Names is null ? "" : " or a name such as " + spec.Names[1])}";
        return false;
    }
}
