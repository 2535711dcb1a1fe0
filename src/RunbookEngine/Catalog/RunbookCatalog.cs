using System.Collections.Concurrent;
using RunbookEngine.Scripting;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Scripting.Sources;

namespace RunbookEngine.Catalog;

/// <summary>
/// The runbooks the host can run: read from a folder and compiled at start, one compiled version per runbook.
/// Following Git and hot reload build on this (the Git catalog issue).
/// </summary>
public sealed class RunbookCatalog : IDisposable
{
    private readonly RunbookFolder _folder;
    private readonly RunbookCompiler _compiler;
    private readonly ConcurrentDictionary<string, CatalogEntry> _entries = new(StringComparer.Ordinal);

    /// <summary>Creates the catalog over a folder.</summary>
    /// <param name="folder">The runbook folder.</param>
    /// <param name="compiler">The compiler (with its disk cache).</param>
    public RunbookCatalog(string folder, RunbookCompiler compiler)
    {
        _folder = new RunbookFolder(folder);
        _compiler = compiler;
    }

    /// <summary>True once the first load has finished.</summary>
    public bool IsReady { get; private set; }

    /// <summary>The folder read.</summary>
    public string Root => _folder.Root;

    /// <summary>Every runbook, valid or not, by name.</summary>
    public IReadOnlyList<CatalogEntry> Entries => [.. _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal)];

    /// <summary>A runbook by name, or null.</summary>
    /// <param name="name">The runbook name.</param>
    /// <returns>The entry or null.</returns>
    public CatalogEntry? Find(string name) => _entries.TryGetValue(name, out var entry) ? entry : null;

    /// <summary>Reads and compiles every runbook in the folder.</summary>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>A task that completes when every runbook is loaded or has its errors.</returns>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (!_folder.Exists)
        {
            throw new DirectoryNotFoundException($"the runbook folder {_folder.Root} does not exist; create it, start the host from the folder that holds runbooks/, or set RunbookEngine:RunbooksPath");
        }

        foreach (var name in _folder.Names())
        {
            var document = _folder.Read(name);
            if (document is null)
            {
                continue;
            }

            CompiledRunbook? compiled = null;
            IReadOnlyList<RunbookDiagnostic> diagnostics = document.Diagnostics;
            if (document.IsValid)
            {
                var result = await _compiler.CompileAsync(document.Source, cancellationToken);
                compiled = result.Runbook;
                diagnostics = result.Diagnostics;
            }

            var entry = new CatalogEntry(name, document.Definition, document.Source.ContentHash, compiled, diagnostics);
            if (_entries.TryGetValue(name, out var previous))
            {
                previous.Compiled?.Dispose();
            }

            _entries[name] = entry;
        }

        IsReady = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _entries.Values)
        {
            entry.Compiled?.Dispose();
        }
    }
}

/// <summary>One runbook in the catalog.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Definition">Its front matter, or null when invalid.</param>
/// <param name="ContentHash">The hash of its source closure.</param>
/// <param name="Compiled">The loaded version, or null when it does not compile.</param>
/// <param name="Diagnostics">Its front matter and compile errors and warnings.</param>
public sealed record CatalogEntry(string Name, RunbookDefinition? Definition, string ContentHash, CompiledRunbook? Compiled, IReadOnlyList<RunbookDiagnostic> Diagnostics)
{
    /// <summary>Whether it can run.</summary>
    public bool IsValid => Definition is not null && Compiled is not null;
}
