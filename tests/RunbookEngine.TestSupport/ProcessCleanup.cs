using System.Diagnostics;

namespace RunbookEngine.TestSupport;

/// <summary>Ends a server process a test started and removes its scratch folder.</summary>
public static class ProcessCleanup
{
    /// <summary>Kills the process and what it started, waits for it, disposes it, and deletes <paramref name="directory"/>.</summary>
    /// <param name="process">The process, started or not.</param>
    /// <param name="directory">Its scratch folder.</param>
    /// <returns>When it is gone.</returns>
    public static async ValueTask KillAndRemoveAsync(Process process, string directory)
    {
        ArgumentNullException.ThrowIfNull(process);
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // It never started (the binary could not be run); there is nothing to kill.
        }

        process.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
