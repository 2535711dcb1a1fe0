// Helpers shared by the example runbooks: #load "lib/common.csx". Files under lib/ are helpers, not runbooks.

/// <summary>1536 -> "1.5 KiB".</summary>
static string FormatBytes(long bytes)
{
    string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
    double value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.Length - 1)
    {
        value /= 1024;
        unit++;
    }

    return unit == 0 ? $"{bytes} B" : $"{value:0.#} {units[unit]}";
}

/// <summary>The use% figure from `df --output=pcent PATH` (header line, then " 42%").</summary>
static int ParseDfPercent(string dfOutput)
{
    var last = dfOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().Trim().TrimEnd('%');
    return int.TryParse(last, out var percent) ? percent : throw new RunbookFailedException($"cannot read a percentage from df output '{dfOutput.Trim()}'");
}

/// <summary>
/// True when the URL answers 2xx within the timeout; connection errors and timeouts are "unhealthy", not exceptions.
/// Pass the runbook's <c>Http</c> client: its requests are kept in the step's output, recorded for test cases and
/// answered by a test case's stubs, which a client of the helper's own would bypass.
/// </summary>
static async Task<bool> HttpHealthy(HttpClient http, string url, TimeSpan timeout, CancellationToken ct)
{
    // Only the URL's own host may answer: Http follows no redirect, which would lead past the caller's check of that
    // host, and its handler uses no proxy, which would send the request from somewhere else.
    using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
    limit.CancelAfter(timeout);
    try
    {
        using var response = await http.GetAsync(url, limit.Token);
        return response.IsSuccessStatusCode;
    }
    catch (HttpRequestException)
    {
        return false;
    }
    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
    {
        return false;
    }
}

/// <summary>The directory with every symbolic link along its path resolved.</summary>
static string RealDirectory(string path)
{
    var full = Path.GetFullPath(path);
    if (full == "/")
    {
        return full;
    }

    var info = new DirectoryInfo(full.TrimEnd('/'));
    if (info.LinkTarget is not null)
    {
        return RealDirectory(info.ResolveLinkTarget(returnFinalTarget: true)!.FullName);
    }

    return Path.Combine(RealDirectory(Path.GetDirectoryName(info.FullName)!), info.Name);
}

/// <summary>
/// The real path of <paramref name="path"/> when it lies under one of the comma-separated <paramref name="allowedRoots"/>
/// (links resolved on both sides); otherwise the run fails. A path from an alert is attacker-controlled.
/// </summary>
static string RealDirectoryUnderAllowedRoot(string path, string allowedRoots)
{
    var realPath = RealDirectory(path);
    var roots = allowedRoots.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (!roots.Any(root => Directory.Exists(root) && IsUnder(realPath, RealDirectory(root))))
    {
        throw new RunbookFailedException($"{path} is not under any allowed root ({string.Join(", ", roots)}); refusing to delete there");
    }

    return realPath;
}

/// <summary>True when <paramref name="path"/> is <paramref name="root"/> or inside it, comparing full paths as text.</summary>
static bool IsUnder(string path, string root) =>
    path == root || path.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal);

/// <summary>
/// Null when <paramref name="file"/> may be deleted now, else why not. Safe means: the path lies under
/// <paramref name="realRoot"/> (a real path, checked against the allowed roots earlier) and neither the file nor any
/// folder above it, up to /, is a symbolic link, so the path is still its own real path. Call it right before each
/// delete: a folder that was real when the files were listed can have been swapped for a link since, and a resumed
/// run deletes from the list it journaled, possibly much later on another node.
/// </summary>
static string WhyNotSafeToDelete(string file, string realRoot)
{
    var full = Path.GetFullPath(file);
    if (!IsUnder(full, realRoot) || full == realRoot)
    {
        return $"it is not under {realRoot}";
    }

    try
    {
        for (var at = full; at is not null && at != "/"; at = Path.GetDirectoryName(at))
        {
            // LinkTarget reads the entry itself (readlink), never what a link points at.
            if (new FileInfo(at).LinkTarget is { } target)
            {
                return at == full ? "it is a symbolic link" : $"{at} is now a symbolic link (to {target})";
            }
        }
    }
    catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
    {
        return "it is gone";
    }

    var real = Path.Combine(RealDirectory(Path.GetDirectoryName(full)!), Path.GetFileName(full));
    return IsUnder(real, realRoot) ? null : $"its real path {real} is not under {realRoot}";
}
