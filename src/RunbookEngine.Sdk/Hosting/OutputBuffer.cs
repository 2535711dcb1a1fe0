using System.Text;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>
/// A step's captured output, bounded: it keeps the first and the last half of <see cref="StepOutcome.MaxOutputLength"/>
/// characters and counts what it dropped, because the start says what ran and the end says how it ended.
/// </summary>
internal sealed class OutputBuffer
{
    private const int HalfLimit = StepOutcome.MaxOutputLength / 2;

    private readonly Lock _gate = new();
    private readonly StringBuilder _head = new();
    private readonly StringBuilder _tail = new();
    private long _dropped;

    public void AppendLine(string line)
    {
        lock (_gate)
        {
            if (_tail.Length == 0 && _head.Length + line.Length + 1 <= HalfLimit)
            {
                _head.Append(line).Append('\n');
                return;
            }

            _tail.Append(line).Append('\n');
            if (_tail.Length > HalfLimit * 2)
            {
                var excess = _tail.Length - HalfLimit;
                _tail.Remove(0, excess);
                _dropped += excess;
            }
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            var tail = _tail.ToString();
            var dropped = _dropped;
            if (tail.Length > HalfLimit && (dropped > 0 || _head.Length + tail.Length > StepOutcome.MaxOutputLength))
            {
                dropped += tail.Length - HalfLimit;
                tail = tail[^HalfLimit..];
            }

            return dropped == 0 ? _head + tail : $"{_head}… [{dropped:N0} characters of output cut] …\n{tail}";
        }
    }
}
