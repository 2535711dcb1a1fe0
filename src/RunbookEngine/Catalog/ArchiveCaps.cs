namespace RunbookEngine.Catalog;

/// <summary>The bounds on a commit's archive and what it unpacks to; <see cref="Default"/> outside tests.</summary>
/// <param name="MaxArchiveBytes">The largest archive read, as downloaded (compressed, for GitHub's tarball).</param>
/// <param name="MaxEntries">The most entries (files, folders, links) in one archive.</param>
/// <param name="MaxUnpackedBytes">The most bytes unpacked from one archive, all files together.</param>
internal sealed record ArchiveCaps(long MaxArchiveBytes, int MaxEntries, long MaxUnpackedBytes)
{
    /// <summary>The caps the sources use: <see cref="CatalogArchive.MaxArchiveBytes"/>, <see cref="CatalogArchive.MaxEntries"/>, <see cref="CatalogArchive.MaxUnpackedBytes"/>.</summary>
    public static readonly ArchiveCaps Default = new(CatalogArchive.MaxArchiveBytes, CatalogArchive.MaxEntries, CatalogArchive.MaxUnpackedBytes);
}
