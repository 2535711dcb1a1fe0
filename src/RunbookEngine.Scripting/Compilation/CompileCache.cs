using System.Text.Json;

namespace RunbookEngine.Scripting.Compilation;

/// <summary>
/// Compiled runbook images on disk, keyed by a hash of the source closure and the compiler's identity. Entries are
/// written to a temporary name and renamed, so a crash or a second process never leaves a half-written entry.
/// </summary>
internal sealed class CompileCache(string directory)
{
    public string Directory { get; } = directory;

    public bool TryRead(string key, out byte[] image, out CacheEntry entry)
    {
        image = [];
        entry = null!;
        var imagePath = Path.Combine(Directory, key + ".dll");
        var entryPath = Path.Combine(Directory, key + ".json");
        try
        {
            if (!File.Exists(entryPath) || !File.Exists(imagePath))
            {
                return false;
            }

            entry = JsonSerializer.Deserialize<CacheEntry>(File.ReadAllBytes(entryPath))!;
            image = File.ReadAllBytes(imagePath);
            return entry is not null && image.Length > 0;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // A damaged entry is a miss: the runbook compiles again and the entry is rewritten.
            return false;
        }
    }

    public void Write(string key, byte[] image, CacheEntry entry)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            WriteAtomically(Path.Combine(Directory, key + ".dll"), image);
            WriteAtomically(Path.Combine(Directory, key + ".json"), JsonSerializer.SerializeToUtf8Bytes(entry));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only or full disk costs a recompile at next start, never a failed run.
        }
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>What is stored beside a cached image.</summary>
internal sealed record CacheEntry(string Runbook, string ContentHash, string EntryType, string EntryMethod, IReadOnlyList<RunbookDiagnostic> Warnings);
