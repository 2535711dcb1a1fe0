using System.Reflection;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Compilation;

/// <summary>
/// A compiled runbook version loaded into its own collectible context. Runs lease it; disposing it unloads the context
/// once the last lease ends, so runs in flight finish on the version they started with.
/// </summary>
public sealed class CompiledRunbook : IDisposable
{
    private readonly Lock _gate = new();
    private RunbookLoadContext? _context;
    private Func<object?[], Task<object>>? _factory;
    private int _leases;
    private bool _retired;

    private CompiledRunbook(string name, string contentHash, RunbookLoadContext context, Func<object?[], Task<object>> factory)
    {
        Name = name;
        ContentHash = contentHash;
        _context = context;
        _factory = factory;
        LoadContextReference = new WeakReference(context);
    }

    /// <summary>The runbook's name.</summary>
    public string Name { get; }

    /// <summary>The hash of the source closure that was compiled.</summary>
    public string ContentHash { get; }

    /// <summary>True once the load context has been unloaded.</summary>
    public bool IsUnloaded { get { lock (_gate) { return _context is null; } } }

    /// <summary>Lets tests see the context die after unload.</summary>
    internal WeakReference LoadContextReference { get; }

    /// <summary>Runs the script against a context; holds a lease for the duration.</summary>
    /// <param name="context">The run's context: the script's globals.</param>
    /// <returns>A task that completes when the script does.</returns>
    public async Task InvokeAsync(RunbookContext context)
    {
        using var lease = Lease();
        Func<object?[], Task<object>> factory;
        lock (_gate)
        {
            factory = _factory ?? throw new ObjectDisposedException(Name, "the runbook version was unloaded");
        }

        // Slot 0 holds the globals, slot 1 the submission itself: Roslyn's submission calling convention.
        await factory([context, null]);
    }

    /// <summary>Keeps the version loaded until the returned handle is disposed.</summary>
    /// <returns>The lease.</returns>
    /// <exception cref="ObjectDisposedException">The version was already unloaded.</exception>
    public IDisposable Lease()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_context is null, this);
            _leases++;
            return new Release(this);
        }
    }

    /// <summary>Retires the version: it unloads now, or when its last run ends.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _retired = true;
            UnloadIfUnused();
        }
    }

    internal static CompiledRunbook Load(string name, string contentHash, byte[] image, string entryType, string entryMethod)
    {
        var context = new RunbookLoadContext($"runbook:{name}@{contentHash[..12]}");
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(image));
            var method = assembly.GetType(entryType, throwOnError: true)!
                .GetMethod(entryMethod, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new InvalidOperationException($"the compiled runbook has no entry method {entryType}.{entryMethod}");
            return new CompiledRunbook(name, contentHash, context, method.CreateDelegate<Func<object?[], Task<object>>>());
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    private void EndLease()
    {
        lock (_gate)
        {
            _leases--;
            UnloadIfUnused();
        }
    }

    private void UnloadIfUnused()
    {
        if (_retired && _leases == 0 && _context is { } context)
        {
            _context = null;
            _factory = null;
            ReflectionCaches.Clear();
            context.Unload();
        }
    }

    private sealed class Release(CompiledRunbook owner) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                owner.EndLease();
            }
        }
    }
}
