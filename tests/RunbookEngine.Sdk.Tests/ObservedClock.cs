using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace RunbookEngine.Sdk.Tests;

/// <summary>
/// A fake clock that reports each timer as it is created, so a test advances time exactly when the code under test is
/// waiting, instead of guessing how long the code needs to get there.
/// </summary>
internal sealed class ObservedClock : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _timers.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Waits until the code creates its next timer, then moves time to when it is due.</summary>
    public async Task<TimeSpan> AdvanceToNextTimerAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var due = await _timers.Reader.ReadAsync(limit.Token);
        Advance(due);
        return due;
    }
}
