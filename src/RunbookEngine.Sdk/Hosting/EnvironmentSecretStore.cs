using System.Text;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>Secrets from environment variables: <c>grafana-token</c> is read from <c>RUNBOOK_SECRET_GRAFANA_TOKEN</c>.</summary>
public sealed class EnvironmentSecretStore : ISecretStore
{
    /// <summary>The prefix of every secret's environment variable.</summary>
    public const string Prefix = "RUNBOOK_SECRET_";

    /// <summary>The environment variable that holds a secret.</summary>
    /// <param name="name">The secret's name.</param>
    /// <returns>The variable name.</returns>
    public static string VariableName(string name)
    {
        var builder = new StringBuilder(Prefix, Prefix.Length + name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    public string? Find(string name)
    {
        var value = Environment.GetEnvironmentVariable(VariableName(name));
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <inheritdoc />
    public string Describe(string name) => $"set the environment variable {VariableName(name)}";
}
