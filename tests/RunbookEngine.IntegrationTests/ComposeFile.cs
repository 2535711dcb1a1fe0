using RunbookEngine.TestSupport;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// The repository's docker-compose.yml as Docker Compose reads it: variables replaced by their documented defaults
/// (<c>${NAME:-default}</c>), YAML anchors and merge keys (<c>&lt;&lt;: *engine</c>) resolved.
/// </summary>
internal sealed partial class ComposeFile
{
    private readonly Dictionary<object, object> _root;

    private ComposeFile(string text, Dictionary<object, object> root)
    {
        Text = text;
        _root = root;
    }

    /// <summary>The file as written, before interpolation.</summary>
    public string Text { get; }

    /// <summary>The services by name.</summary>
    public IReadOnlyDictionary<string, Node> Services => new Node(_root["services"]).Map.ToDictionary(p => p.Key, p => p.Value);

    /// <summary>The top-level named volumes.</summary>
    public IReadOnlyCollection<string> Volumes => new Node(_root["volumes"]).Map.Keys.ToList();

    /// <summary>The inline content of a top-level config.</summary>
    public string Config(string name) => new Node(_root["configs"])[name]["content"].Text;

    /// <summary>The variables the file refers to (<c>${NAME...}</c>), each with its default, or null when it has none.</summary>
    public IReadOnlyDictionary<string, string?> Variables =>
        Variable().Matches(Text).GroupBy(m => m.Groups["name"].Value).ToDictionary(g => g.Key, g => g.First().Groups["default"].Success ? g.First().Groups["default"].Value : null);

    public static ComposeFile Load()
    {
        var text = File.ReadAllText(Repository.Path("docker-compose.yml"));
        // As Compose does with no .env file and nothing set: ${NAME:-default} becomes the default; $$ is a literal $.
        var interpolated = Variable().Replace(text, m => m.Groups["default"].Value).Replace("$$", "$", StringComparison.Ordinal);
        var root = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(new StringReader(interpolated))));
        return new ComposeFile(text, root);
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(:-(?<default>[^}]*))?\}")]
    private static partial Regex Variable();

    /// <summary>One YAML value: a mapping, a sequence or a scalar.</summary>
    internal readonly record struct Node(object? Value)
    {
        public Dictionary<string, Node> Map => Value is Dictionary<object, object> map
            ? map.ToDictionary(p => (string)p.Key, p => new Node(p.Value))
            : throw new InvalidOperationException($"not a mapping: {Value}");

        public IReadOnlyList<Node> List => Value is List<object> list ? [.. list.Select(v => new Node(v))] : throw new InvalidOperationException($"not a sequence: {Value}");

        public string Text => Value as string ?? throw new InvalidOperationException($"not a scalar: {Value}");

        public Node this[string key] => Map.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no '{key}' in {string.Join(", ", Map.Keys)}");

        public bool Has(string key) => Value is Dictionary<object, object> map && map.ContainsKey(key);

        /// <summary>A service's environment, in either of Compose's forms (a mapping, or a list of NAME=value).</summary>
        public Dictionary<string, string> Environment => this["environment"].Value is List<object> list
            ? list.Cast<string>().Select(e => e.Split('=', 2)).ToDictionary(e => e[0], e => e.Length > 1 ? e[1] : "")
            : this["environment"].Map.ToDictionary(p => p.Key, p => p.Value.Text);

        /// <summary>A list of strings, or one string split on spaces (Compose's two forms of command and test).</summary>
        public IReadOnlyList<string> Words => Value is List<object> list ? [.. list.Cast<string>()] : Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
