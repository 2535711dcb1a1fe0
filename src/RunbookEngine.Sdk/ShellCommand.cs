using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace RunbookEngine.Sdk;

/// <summary>
/// A program and its arguments, built so that values never become shell syntax. In <c>Shell($"du -sh {path}")</c> the literal
/// text is split on spaces (single and double quotes group words), while each <c>{value}</c> lands inside one argument
/// whatever it contains; a <c>{list}</c> of strings becomes one argument per element. No shell runs unless you name one.
/// </summary>
[InterpolatedStringHandler]
public sealed class ShellCommand
{
    private readonly List<string> _arguments = [];
    private readonly StringBuilder _current = new();

    // True once the current argument exists, even if empty (so "" and {emptyString} still yield an argument).
    private bool _inArgument;

    // The quote character we are inside, or '\0'.
    private char _quote;

    /// <summary>Called by the compiler for an interpolated string.</summary>
    /// <param name="literalLength">The length of the literal parts.</param>
    /// <param name="formattedCount">The number of holes.</param>
    public ShellCommand(int literalLength, int formattedCount)
    {
        _ = literalLength;
        _ = formattedCount;
    }

    private ShellCommand()
    {
    }

    /// <summary>Called by the compiler for each literal part: split on white space outside quotes.</summary>
    /// <param name="value">The literal text.</param>
    public void AppendLiteral(string value)
    {
        foreach (var c in value)
        {
            if (_quote != '\0')
            {
                if (c == _quote)
                {
                    _quote = '\0';
                }
                else
                {
                    _current.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                _quote = c;
                _inArgument = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                EndArgument();
            }
            else
            {
                _current.Append(c);
                _inArgument = true;
            }
        }
    }

    /// <summary>Called by the compiler for each hole: the value joins the current argument as it is.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    public void AppendFormatted<T>(T value) => AppendFormatted(value, null);

    /// <summary>Called by the compiler for each hole with a format: the formatted value joins the current argument.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="format">The format string.</param>
    public void AppendFormatted<T>(T value, string? format)
    {
        if (value is IEnumerable<string> many && value is not string && _quote == '\0' && !_inArgument)
        {
            foreach (var item in many)
            {
                _arguments.Add(item);
            }

            return;
        }

        _current.Append(value switch
        {
            null => "",
            IFormattable formattable => formattable.ToString(format, CultureInfo.InvariantCulture),
            IEnumerable enumerable and not string => string.Join(' ', enumerable.Cast<object?>()),
            _ => value.ToString(),
        });
        _inArgument = true;
    }

    /// <summary>A command line given as plain text, split like the literal parts of an interpolated one.</summary>
    /// <param name="commandLine">The command line, e.g. <c>"systemctl restart nginx"</c>.</param>
    public static implicit operator ShellCommand(string commandLine) => Parse(commandLine);

    /// <summary>A command line given as plain text, split like the literal parts of an interpolated one.</summary>
    /// <param name="commandLine">The command line.</param>
    /// <returns>The command.</returns>
    public static ShellCommand Parse(string commandLine)
    {
        var command = new ShellCommand();
        command.AppendLiteral(commandLine);
        return command;
    }

    /// <summary>A program and an exact argument list, with no splitting at all.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <returns>The command.</returns>
    public static ShellCommand FromArguments(string fileName, IEnumerable<string> arguments)
    {
        var command = new ShellCommand();
        command._arguments.Add(fileName);
        command._arguments.AddRange(arguments);
        return command;
    }

    /// <summary>The program followed by its arguments.</summary>
    /// <returns>The argument vector.</returns>
    /// <exception cref="ArgumentException">The command is empty or a quote is not closed.</exception>
    public IReadOnlyList<string> ToArgv()
    {
        if (_quote != '\0')
        {
            throw new ArgumentException($"the command has an unclosed {_quote} quote");
        }

        var argv = new List<string>(_arguments);
        if (_inArgument)
        {
            argv.Add(_current.ToString());
        }

        if (argv.Count == 0 || argv[0].Length == 0)
        {
            throw new ArgumentException("the command is empty");
        }

        return argv;
    }

    /// <inheritdoc />
    public override string ToString() => Display(ToArgv());

    /// <summary>An argument vector as a person would type it, quoting what needs quotes.</summary>
    /// <param name="argv">The argument vector.</param>
    /// <returns>The readable command line.</returns>
    public static string Display(IReadOnlyList<string> argv) => string.Join(' ', argv.Select(Quote));

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private void EndArgument()
    {
        if (_inArgument)
        {
            _arguments.Add(_current.ToString());
            _current.Clear();
            _inArgument = false;
        }
    }
}
