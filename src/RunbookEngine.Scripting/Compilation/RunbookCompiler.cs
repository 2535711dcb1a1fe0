using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Compilation;

/// <summary>
/// Compiles runbooks to collectible, cached images. One compilation at a time (Roslyn would only fight itself for the
/// cores); cache hits never wait for it and never load Roslyn.
/// </summary>
public sealed class RunbookCompiler : IDisposable
{
    // Bump when the emitted image would differ for the same inputs (imports, references, options).
    private const string OptionsVersion = "runbook-image-v1";

    private static readonly Lazy<string> CompilerIdentity = new(ComputeCompilerIdentity);

    private readonly CompileCache? _cache;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _compilations;

    /// <summary>Creates a compiler.</summary>
    /// <param name="cacheDirectory">Where compiled images are kept across restarts; null for no disk cache.</param>
    public RunbookCompiler(string? cacheDirectory)
    {
        _cache = cacheDirectory is null ? null : new CompileCache(cacheDirectory);
    }

    /// <summary>The cache folder used when none is configured: <c>$RUNBOOKENGINE_CACHE</c>, else <c>$XDG_CACHE_HOME/runbookengine</c>, else <c>~/.cache/runbookengine</c>.</summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("RUNBOOKENGINE_CACHE");
            if (!string.IsNullOrEmpty(configured))
            {
                return configured;
            }

            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var baseDirectory = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
                : xdg;
            return Path.Combine(baseDirectory, "runbookengine", "compiled");
        }
    }

    /// <summary>How many times this compiler ran Roslyn (cache hits do not count).</summary>
    public int Compilations => Volatile.Read(ref _compilations);

    /// <summary>Whether Roslyn is loaded in this process; a warm start from the cache keeps it unloaded.</summary>
    public static bool IsRoslynLoaded =>
        AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Microsoft.CodeAnalysis.CSharp.Scripting");

    /// <summary>Compiles a runbook, or loads it from the cache.</summary>
    /// <param name="source">The runbook's source closure.</param>
    /// <param name="cancellationToken">Cancels a compile that has not started.</param>
    /// <returns>The loaded version, or the diagnostics that prevent it.</returns>
    public async Task<CompileResult> CompileAsync(RunbookSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var started = Stopwatch.GetTimestamp();
        if (source.Diagnostics.Any(d => d.IsError))
        {
            return new CompileResult(null, source.Diagnostics, false, Stopwatch.GetElapsedTime(started));
        }

        var key = CacheKey(source);
        if (TryLoadCached(source, key, started) is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have compiled the same version while this one waited.
            if (TryLoadCached(source, key, started) is { } justCached)
            {
                return justCached;
            }

            var output = await Task.Run(() => RoslynBackend.Compile(source, cancellationToken), cancellationToken);
            Interlocked.Increment(ref _compilations);
            if (output.Image is null)
            {
                return new CompileResult(null, output.Diagnostics, false, Stopwatch.GetElapsedTime(started));
            }

            var warnings = output.Diagnostics.Where(d => !d.IsError).ToList();
            _cache?.Write(key, output.Image, new CacheEntry(source.Name, source.ContentHash, output.EntryType, output.EntryMethod, warnings));
            var runbook = CompiledRunbook.Load(source.Name, source.ContentHash, output.Image, output.EntryType, output.EntryMethod);
            return new CompileResult(runbook, warnings, false, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Compiles a trivial script so the first real compile does not pay Roslyn's start-up (about a second).</summary>
    /// <param name="cancellationToken">Cancels the warm-up.</param>
    /// <returns>A task that completes when Roslyn is warm.</returns>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        var directory = Directory.CreateTempSubdirectory("runbook-warmup-");
        try
        {
            var path = Path.Combine(directory.FullName, "warmup.csx");
            await File.WriteAllTextAsync(path, "// ---\n// description: warm-up\n// ---\nawait Step(\"warm\", ct => Task.CompletedTask);\n", cancellationToken);
            await _gate.WaitAsync(cancellationToken);
            try
            {
                var output = await Task.Run(() => RoslynBackend.Compile(RunbookSource.Load(directory.FullName, path), cancellationToken), cancellationToken);
                if (output.Image is not null)
                {
                    CompiledRunbook.Load("warmup", new string('0', 64), output.Image, output.EntryType, output.EntryMethod).Dispose();
                }
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    private CompileResult? TryLoadCached(RunbookSource source, string key, long started)
    {
        if (_cache is null || !_cache.TryRead(key, out var image, out var entry))
        {
            return null;
        }

        try
        {
            var runbook = CompiledRunbook.Load(source.Name, source.ContentHash, image, entry.EntryType, entry.EntryMethod);
            return new CompileResult(runbook, entry.Warnings, true, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or TypeLoadException or InvalidOperationException or MissingMethodException)
        {
            // A damaged image is a miss: the runbook compiles again and the entry is rewritten.
            return null;
        }
    }

    private static string CacheKey(RunbookSource source)
    {
        var text = $"{OptionsVersion}\n{CompilerIdentity.Value}\n{source.ContentHash}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The compiler, SDK and runtime an image depends on, read from metadata without loading Roslyn.</summary>
    private static string ComputeCompilerIdentity()
    {
        var roslyn = typeof(RunbookCompiler).Assembly.GetReferencedAssemblies()
            .Where(a => a.Name?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true)
            .Select(a => $"{a.Name}/{a.Version}")
            .Order(StringComparer.Ordinal);
        var sdk = typeof(RunbookContext).Assembly.ManifestModule.ModuleVersionId;
        var scripting = typeof(RunbookCompiler).Assembly.ManifestModule.ModuleVersionId;
        return $"{string.Join(',', roslyn)};sdk={sdk};scripting={scripting};runtime={Environment.Version}";
    }
}
