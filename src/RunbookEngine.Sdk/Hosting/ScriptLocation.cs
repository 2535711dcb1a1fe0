using System.Diagnostics;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>Finds where in a runbook an exception was thrown, so errors point at the script line rather than at the engine.</summary>
public static class ScriptLocation
{
    /// <summary>The first frame of the exception that lies in a <c>.csx</c> file, as <c>file.csx:line</c>, or null.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>The location or null.</returns>
    public static string? Of(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        foreach (var frame in new StackTrace(exception, fNeedFileInfo: true).GetFrames())
        {
            var file = frame.GetFileName();
            if (file is not null && file.EndsWith(".csx", StringComparison.OrdinalIgnoreCase) && frame.GetFileLineNumber() > 0)
            {
                return $"{Path.GetFileName(file)}:{frame.GetFileLineNumber()}";
            }
        }

        return null;
    }
}
