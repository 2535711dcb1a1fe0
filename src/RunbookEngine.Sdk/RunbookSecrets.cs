using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk;

/// <summary>
/// Secrets a runbook needs (tokens, passwords). A value read here is redacted from every log line, step output and error of the run.
/// </summary>
public sealed class RunbookSecrets
{
    private readonly ISecretStore _store;
    private readonly Redactor _redactor;

    internal RunbookSecrets(ISecretStore store, Redactor redactor)
    {
        _store = store;
        _redactor = redactor;
    }

    /// <summary>The secret's value.</summary>
    /// <param name="name">The secret's name, e.g. <c>grafana-token</c>.</param>
    /// <returns>The value.</returns>
    /// <exception cref="RunbookFailedException">No secret of that name is configured; the message says where it is looked up.</exception>
    public string Get(string name) =>
        TryGet(name) ?? throw new RunbookFailedException($"secret '{name}' is not configured; {_store.Describe(name)}");

    /// <summary>The secret's value, or null when it is not configured.</summary>
    /// <param name="name">The secret's name.</param>
    /// <returns>The value or null.</returns>
    public string? TryGet(string name)
    {
        var value = _store.Find(name);
        if (value is not null)
        {
            _redactor.Add(value);
        }

        return value;
    }
}
