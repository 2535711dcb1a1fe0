using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Trust.Testing;

/// <summary>The case's secrets and no others: a case never reads the machine's environment.</summary>
internal sealed class CaseSecrets(IReadOnlyDictionary<string, string> secrets) : ISecretStore
{
    public string? Find(string name) => secrets.GetValueOrDefault(name);

    public string Describe(string name) => $"add {name} under the case's secrets:";
}
