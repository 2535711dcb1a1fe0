using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.CodeAnalysis.Text;
using Microsoft.Extensions.Logging;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Compilation;

/// <summary>
/// Everything that touches Roslyn, kept in one type so that a cache hit never loads the compiler (ROSLYN.md: ~1 s and
/// ~100 MB saved per process). Roslyn is used as a compiler only: we emit bytes and load them ourselves.
/// </summary>
internal static class RoslynBackend
{
    /// <summary>Namespaces every runbook sees without a using.</summary>
    public static readonly string[] Imports =
    [
        "System", "System.Collections.Generic", "System.Globalization", "System.IO", "System.Linq", "System.Net.Http",
        "System.Text", "System.Text.Json", "System.Text.RegularExpressions", "System.Threading", "System.Threading.Tasks",
        "RunbookEngine.Sdk",
    ];

    /// <summary>
    /// Framework assemblies referenced by default; <c>#r "Name"</c> adds any other framework assembly. Each reference
    /// costs binding time on every compile (netstandard's thousands of forwards most of all), so the list holds what
    /// runbooks use: collections, LINQ, files, processes, HTTP, sockets, JSON, regex and certificates.
    /// </summary>
    public static readonly string[] DefaultReferences =
    [
        "System.Private.CoreLib", "System.Runtime", "System.Collections", "System.Collections.Concurrent", "System.Console",
        "System.Linq", "System.Text.RegularExpressions", "System.Net.Http", "System.Net.Primitives", "System.Net.Sockets",
        "System.Text.Json", "System.Memory", "System.Diagnostics.Process", "System.ComponentModel.Primitives",
        "System.Security.Cryptography", "System.Private.Uri",
    ];

    // Built once: re-resolving references on every compile costs most of its time and memory (ROSLYN.md, dotnet/roslyn#46340).
    private static readonly Lazy<ScriptOptions> BaseOptions = new(CreateOptions);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static RoslynOutput Compile(RunbookSource source, CancellationToken cancellationToken)
    {
        var options = BaseOptions.Value
            .WithFilePath(source.MainPath)
            .WithSourceResolver(new ClosureSourceResolver(source));
        var script = CSharpScript.Create(source.Text, options, typeof(RunbookContext));
        var compilation = script.GetCompilation();

        // A runbook is small and compiles run one at a time: Roslyn's parallel build only adds scheduling overhead here
        // (measured 12 ms serial against 16 ms parallel on two cores) and takes the host's other core.
        compilation = compilation.WithOptions(compilation.Options.WithConcurrentBuild(false));
        using var image = new MemoryStream();
        var emit = compilation.Emit(image, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded), cancellationToken: cancellationToken);
        var diagnostics = emit.Diagnostics
            .Where(d => d.Severity is Microsoft.CodeAnalysis.DiagnosticSeverity.Error or Microsoft.CodeAnalysis.DiagnosticSeverity.Warning)
            .Select(ToDiagnostic)
            .ToList();
        if (!emit.Success)
        {
            return new RoslynOutput(null, "", "", diagnostics);
        }

        var entry = compilation.GetEntryPoint(cancellationToken)!;
        var typeName = entry.ContainingNamespace.IsGlobalNamespace
            ? entry.ContainingType.MetadataName
            : $"{entry.ContainingNamespace.ToDisplayString()}.{entry.ContainingType.MetadataName}";
        return new RoslynOutput(image.ToArray(), typeName, entry.MetadataName, diagnostics);
    }

    private static ScriptOptions CreateOptions()
    {
        var resolver = new FrameworkReferenceResolver();
        var references = DefaultReferences
            .Select(name => resolver.Find(name))
            .OfType<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(RunbookContext).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(ILogger).Assembly.Location));
        return ScriptOptions.Default
            .WithReferences(references)
            .WithImports(Imports)
            .WithMetadataResolver(resolver)
            // Debug keeps a sequence point on every statement, so errors name the exact runbook line; runbooks are glue code
            // that waits on processes and networks, where the optimiser gains nothing measurable.
            .WithOptimizationLevel(OptimizationLevel.Debug)
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8)
            .WithAllowUnsafe(false)
            .WithCheckOverflow(false);
    }

    private static RunbookDiagnostic ToDiagnostic(Diagnostic diagnostic)
    {
        var span = diagnostic.Location.GetMappedLineSpan();
        var file = span.IsValid && span.Path.Length > 0 ? span.Path : "<runbook>";
        return new RunbookDiagnostic(
            RunbookDiagnostic.DisplayPath(file),
            span.IsValid ? span.StartLinePosition.Line + 1 : 1,
            span.IsValid ? span.StartLinePosition.Character + 1 : 0,
            diagnostic.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
            diagnostic.Id,
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    /// <summary>Serves <c>#load</c> from the closure already read and checked, so what compiles is exactly what was hashed.</summary>
    private sealed class ClosureSourceResolver(RunbookSource source) : SourceReferenceResolver
    {
        private readonly Dictionary<string, string> _files = source.Files.ToDictionary(f => f.FullPath, f => f.Text, StringComparer.Ordinal);

        public override string? NormalizePath(string path, string? baseFilePath) => path;

        public override string? ResolveReference(string path, string? baseFilePath)
        {
            var directory = baseFilePath is null ? source.Root : Path.GetDirectoryName(baseFilePath) ?? source.Root;
            var full = Path.GetFullPath(Path.Combine(directory, path));
            return _files.ContainsKey(full) ? full : null;
        }

        public override Stream OpenRead(string resolvedPath) => new MemoryStream(Encoding.UTF8.GetBytes(_files[resolvedPath]));

        public override SourceText ReadText(string resolvedPath) => SourceText.From(_files[resolvedPath], Encoding.UTF8);

        public override bool Equals(object? other) => ReferenceEquals(this, other);

        public override int GetHashCode() => RuntimeHelpers.GetHashCode(this);
    }

    /// <summary>Resolves <c>#r "Name"</c> to framework assemblies only, each read once; file paths and NuGet references are refused.</summary>
    private sealed class FrameworkReferenceResolver : MetadataReferenceResolver
    {
        private static readonly Dictionary<string, string> Platform = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .GroupBy(Path.GetFileNameWithoutExtension, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key!, g => g.First(), StringComparer.OrdinalIgnoreCase);

        private readonly ConcurrentDictionary<string, PortableExecutableReference?> _resolved = new(StringComparer.OrdinalIgnoreCase);

        public PortableExecutableReference? Find(string name) =>
            _resolved.GetOrAdd(name, key => Platform.TryGetValue(key, out var path) ? MetadataReference.CreateFromFile(path) : null);

        public override ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties)
        {
            var name = reference.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? reference[..^4] : reference;
            if (name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal))
            {
                return [];
            }

            return Find(name) is { } found ? [found] : [];
        }

        public override bool Equals(object? other) => ReferenceEquals(this, other);

        public override int GetHashCode() => RuntimeHelpers.GetHashCode(this);
    }
}

/// <summary>What one Roslyn compilation produced: an image and its entry point, or diagnostics.</summary>
internal sealed record RoslynOutput(byte[]? Image, string EntryType, string EntryMethod, IReadOnlyList<RunbookDiagnostic> Diagnostics);
