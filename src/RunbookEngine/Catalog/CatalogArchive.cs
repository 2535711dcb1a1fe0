using System.Formats.Tar;
using System.Globalization;

namespace RunbookEngine.Catalog;

/// <summary>
/// Unpacks a commit's tar archive into a folder, for either source. Only folders and regular files are written, and only
/// inside the folder. A link is never written; one under the followed runbook folder that points outside the repository
/// (an absolute target, or one that climbs out with <c>..</c>) refuses the whole archive, as an entry named with an
/// absolute path or a <c>..</c> does, since a commit that tries either is not a runbook folder a person meant to write.
/// Links elsewhere in the repository (a monorepo's <c>tools/python -> /usr/bin/python3</c>) are left out unread, as a
/// checkout by the <c>git</c> source ignores them.
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
    public static void CheckSize(long bytes, string what) => CheckSize(bytes, what, MaxArchiveBytes);

    /// <summary>Refuses an archive larger than <paramref name="maxBytes"/> before anything of it is unpacked.</summary>
    /// <param name="bytes">The archive's size, or as much of it as was read before the cap was passed.</param>
    /// <param name="what">The archive, as a person would name it.</param>
    /// <param name="maxBytes">The cap.</param>
    public static void CheckSize(long bytes, string what, long maxBytes)
    {
        if (bytes > maxBytes)
        {
            throw new InvalidDataException(TooLarge(what, maxBytes));
        }
    }

    /// <summary>Why an archive over the cap is refused, for either source.</summary>
    /// <param name="what">The archive, as a person would name it.</param>
    /// <param name="maxBytes">The cap.</param>
    /// <returns>The message.</returns>
    public static string TooLarge(string what, long maxBytes) => string.Create(CultureInfo.InvariantCulture,
        $"{what} exceeds {Size(maxBytes)}; larger archives are refused (a runbook folder is far smaller: look for large files committed by mistake)");

    private static string Size(long bytes) => bytes % (1024 * 1024) == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes");

    /// <summary>Unpacks a tar stream within <paramref name="caps"/>.</summary>
    /// <param name="tar">The uncompressed tar stream.</param>
    /// <param name="folder">Where to unpack it.</param>
    /// <param name="stripTopFolder">Whether every entry sits under one top folder to leave out (GitHub's <c>owner-repo-sha7/</c>).</param>
    /// <param name="caps">The most entries and bytes to unpack.</param>
    /// <param name="followed">The runbook folder followed, relative to the repository (<c>ops/runbooks</c>; empty for all of it): only links under it are judged.</param>
    /// <param name="cancellationToken">Cancels the unpacking.</param>
    /// <returns>A task.</returns>
    public static Task UnpackAsync(Stream tar, string folder, bool stripTopFolder, ArchiveCaps caps, string followed, CancellationToken cancellationToken) =>
        UnpackAsync(tar, folder, stripTopFolder, caps.MaxEntries, caps.MaxUnpackedBytes, followed, cancellationToken);

    /// <summary>Unpacks a tar stream.</summary>
    /// <param name="tar">The uncompressed tar stream.</param>
    /// <param name="folder">Where to unpack it.</param>
    /// <param name="stripTopFolder">Whether every entry sits under one top folder to leave out (GitHub's <c>owner-repo-sha7/</c>).</param>
    /// <param name="maxEntries">The most entries to unpack.</param>
    /// <param name="maxUnpackedBytes">The most bytes to unpack.</param>
    /// <param name="followed">The runbook folder followed, relative to the repository (empty for all of it): only links under it are judged.</param>
    /// <param name="cancellationToken">Cancels the unpacking.</param>
    /// <returns>A task.</returns>
    public static async Task UnpackAsync(Stream tar, string folder, bool stripTopFolder, int maxEntries, long maxUnpackedBytes, string followed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(followed);
        var followedPrefix = followed.Trim('/') is { Length: > 0 } sub ? sub + "/" : "";
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

            var isLink = entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink;
            if (!isLink && entry.EntryType is not (TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                continue;
            }

            // Before the top folder is stripped: GitHub's names are never absolute, so one that is was not made by it.
            if (IsAbsolute(entry.Name) || entry.Name.Split('/', '\\').Contains(".."))
            {
                throw new InvalidDataException($"the archive holds {entry.Name}, which lies outside its folder (an absolute path or a '..' in it); such archives are refused");
            }

            var relative = Strip(entry.Name, stripTopFolder);
            if (relative.Length == 0 || relative is "./" or ".")
            {
                continue;
            }

            var path = Path.GetFullPath(Path.Combine(root, relative));
            if (!IsInside(root, path))
            {
                throw new InvalidDataException($"the archive holds {entry.Name}, which lies outside its folder");
            }

            if (isLink)
            {
                // Only the followed folder is the catalog's business; a link elsewhere is simply not written.
                if (relative.StartsWith(followedPrefix, StringComparison.Ordinal))
                {
                    CheckLink(entry, root, path, stripTopFolder);
                }

                continue;
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

    /// <summary>
    /// Refuses a link that points outside the folder; one that stays inside is left out, as every link is. A symbolic
    /// link's target is relative to its own folder; a hard link's names another entry of the archive.
    /// </summary>
    private static void CheckLink(TarEntry entry, string root, string path, bool stripTopFolder)
    {
        var target = entry.LinkName;
        var kind = entry.EntryType == TarEntryType.SymbolicLink ? "a symbolic link" : "a hard link";
        var resolved = IsAbsolute(target) ? null
            : entry.EntryType == TarEntryType.SymbolicLink ? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target))
            : target.Split('/', '\\').Contains("..") ? null
            : Path.GetFullPath(Path.Combine(root, Strip(target, stripTopFolder)));
        if (resolved is null || !(IsInside(root, resolved) || resolved == root))
        {
            throw new InvalidDataException($"the archive holds {entry.Name}, {kind} to {target}, which lies outside its folder; links leaving the repository are refused");
        }
    }

    private static string Strip(string name, bool stripTopFolder)
    {
        if (!stripTopFolder)
        {
            return name;
        }

        var slash = name.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? "" : name[(slash + 1)..];
    }

    private static bool IsAbsolute(string name) => name.StartsWith('/') || name.StartsWith('\\') || Path.IsPathRooted(name);

    private static bool IsInside(string root, string path) => path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
