using System.Formats.Tar;
using System.Globalization;

namespace RunbookEngine.Catalog;

/// <summary>
/// Unpacks a commit's tar archive into a folder, for either source. Only folders and regular files are written, and only
/// inside the folder: a link could point anywhere, and the catalog's own rule refuses to load through one that leaves the
/// runbook folder anyway.
/// </summary>
/// <remarks>
/// The archive of a pull request is whatever its author pushed (on a public repository, anyone's fork), so the archive,
/// its entries and what they unpack to are all capped: a refused archive fails that sync or check with the cap named.
/// </remarks>
internal static class CatalogArchive
{
    /// <summary>The largest archive read, as downloaded: 50 MiB, far above a folder of scripts.</summary>
    public const long MaxArchiveBytes = 50L * 1024 * 1024;

    /// <summary>The most entries (files and folders) unpacked from one archive.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>The most bytes unpacked from one archive, all files together: 200 MiB.</summary>
    public const long MaxUnpackedBytes = 200L * 1024 * 1024;

    /// <summary>Refuses an archive larger than <see cref="MaxArchiveBytes"/> before anything of it is unpacked.</summary>
    /// <param name="bytes">The archive's size.</param>
    /// <param name="what">The archive, as a person would name it.</param>
    public static void CheckSize(long bytes, string what)
    {
        if (bytes > MaxArchiveBytes)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{what} is {bytes} bytes; archives larger than {MaxArchiveBytes} bytes are refused (a runbook folder is far smaller: look for large files committed by mistake)"));
        }
    }

    /// <summary>Unpacks a tar stream.</summary>
    /// <param name="tar">The uncompressed tar stream.</param>
    /// <param name="folder">Where to unpack it.</param>
    /// <param name="stripTopFolder">Whether every entry sits under one top folder to leave out (GitHub's <c>owner-repo-sha7/</c>).</param>
    /// <param name="maxEntries">The most entries to unpack.</param>
    /// <param name="maxUnpackedBytes">The most bytes to unpack.</param>
    /// <param name="cancellationToken">Cancels the unpacking.</param>
    /// <returns>A task.</returns>
    public static async Task UnpackAsync(Stream tar, string folder, bool stripTopFolder, int maxEntries, long maxUnpackedBytes, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(folder);
        Directory.CreateDirectory(root);
        var entries = 0;
        var unpacked = 0L;
        await using var reader = new TarReader(tar);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            // Counted before the type is looked at: a million links or devices cost reading as much as files do.
            if (++entries > maxEntries)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"the archive holds more than {maxEntries} entries; archives with more are refused"));
            }

            if (entry.EntryType is not (TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                continue;
            }

            var relative = entry.Name;
            if (stripTopFolder)
            {
                var slash = relative.IndexOf('/', StringComparison.Ordinal);
                relative = slash < 0 ? "" : relative[(slash + 1)..];
            }

            if (relative.Length == 0 || relative is "./" or ".")
            {
                continue;
            }

            var path = Path.GetFullPath(Path.Combine(root, relative));
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"the archive holds {entry.Name}, which lies outside its folder");
            }

            if (entry.EntryType == TarEntryType.Directory)
            {
                Directory.CreateDirectory(path);
                continue;
            }

            // The header's length is what extraction writes, so the cap holds before a byte of the file is.
            unpacked += entry.Length;
            if (unpacked > maxUnpackedBytes)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"the archive unpacks to more than {maxUnpackedBytes} bytes (at {entry.Name}); archives larger unpacked are refused"));
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await entry.ExtractToFileAsync(path, overwrite: true, cancellationToken);
        }
    }
}
