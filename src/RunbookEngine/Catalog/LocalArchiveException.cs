namespace RunbookEngine.Catalog;

/// <summary>
/// The host could not write a downloaded archive to its own disk (full, read-only): a local fault, never reported as
/// GitHub being unavailable, and not waited out as an outage.
/// </summary>
internal sealed class LocalArchiveException : IOException
{
    /// <summary>The archive at <paramref name="path"/> could not be written.</summary>
    /// <param name="path">The local file.</param>
    /// <param name="inner">What the disk said.</param>
    public LocalArchiveException(string path, Exception inner)
        : base($"the archive could not be written to {path} on this host's disk ({inner?.Message}); GitHub is not at fault: check the free space and permissions of RunbookEngine:DataPath", inner)
    {
    }
}
