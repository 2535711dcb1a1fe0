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

/// <summary>True when the URL answers 2xx within the timeout; connection errors and timeouts are "unhealthy", not exceptions.</summary>
static async Task<bool> HttpHealthy(string url, TimeSpan timeout, CancellationToken ct)
{
    using var http = new HttpClient { Timeout = timeout };
    try
    {
        using var response = await http.GetAsync(url, ct);
        return response.IsSuccessStatusCode;
    }
    catch (HttpRequestException)
    {
        return false;
    }
    catch (TaskCanceledException) when (!ct.IsCancellationRequested)
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
