using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Gives running steps <see cref="RunbookEngineOptions.ShutdownGrace"/> to finish once the host starts stopping, then
/// fires <see cref="Token"/> so runs still going are interrupted and handed back to the queue instead of being lost
/// or cut off by the host's hard stop.
/// </summary>
internal sealed class ShutdownDrain : IDisposable
{
    private readonly CancellationTokenSource _interrupt;
    private readonly CancellationTokenRegistration _stopping;

    public ShutdownDrain(IHostApplicationLifetime lifetime, IOptions<RunbookEngineOptions> options, TimeProvider time)
    {
        var grace = options.Value.ShutdownGrace;
        _interrupt = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _stopping = lifetime.ApplicationStopping.Register(() => _interrupt.CancelAfter(grace <= TimeSpan.Zero ? TimeSpan.Zero : grace));
    }

    /// <summary>Fires when the shutdown grace is over.</summary>
    public CancellationToken Token => _interrupt.Token;

    public void Dispose()
    {
        _stopping.Dispose();
        _interrupt.Dispose();
    }
}
