using System.Text;

namespace RunbookEngine.Incidents;

/// <summary>
/// Text from alerts, runbooks and people made safe to put in generated Markdown: a label value must not open a heading,
/// a link or an HTML tag in a draft someone pastes into an issue tracker, nor move a terminal's cursor when printed.
/// </summary>
public static class MarkdownText
{
    private const string Special = "\\`*_[]()<>#!|";

    /// <summary>Plain text inside a line: line endings become spaces, control characters go, Markdown syntax is escaped.</summary>
    /// <param name="text">The text.</param>
    /// <returns>Text that renders as itself.</returns>
    public static string Escape(string? text)
    {
        var flat = Flatten(text);
        var escaped = new StringBuilder(flat.Length + 8);
        foreach (var c in flat)
        {
            if (Special.Contains(c, StringComparison.Ordinal))
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    /// <summary>
    /// A code span of the text, on one line, its delimiter a backtick run longer than any in the text. A pipe is still
    /// escaped, since a table cell ends at one even inside a code span.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The code span.</returns>
    public static string Code(string? text)
    {
        var flat = Flatten(text);
        int longest = 0, run = 0;
        foreach (var c in flat)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        var fence = new string('`', longest + 1);
        var pad = flat.StartsWith('`') || flat.EndsWith('`') || flat.Length == 0 ? " " : "";
        return $"{fence}{pad}{flat.Replace("|", "\\|", StringComparison.Ordinal)}{pad}{fence}";
    }

    /// <summary>Removes C0 and C1 control characters (an ESC that would drive a terminal) but keeps line breaks and tabs.</summary>
    /// <param name="text">Text about to be printed.</param>
    /// <returns>The text without them.</returns>
    public static string StripControl(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return string.Create(text.Length - text.Count(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')), text, (span, source) =>
        {
            var i = 0;
            foreach (var c in source)
            {
                if (!char.IsControl(c) || c is '\n' or '\r' or '\t')
                {
                    span[i++] = c;
                }
            }
        });
    }

    private static string Flatten(string? text)
    {
        var flat = (text ?? "").ReplaceLineEndings(" ").Replace('\t', ' ');
        return flat.Any(char.IsControl) ? new string([.. flat.Where(c => !char.IsControl(c))]) : flat;
    }
}
