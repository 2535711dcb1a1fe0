using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace RunbookEngine.GitHub;

/// <summary>
/// Refuses at start what would only fail later, in the background, on the first commit: half an App, a token beside
/// an App, a key that cannot be read, a repository or address that is not one.
/// </summary>
internal sealed class GitHubValidation : IValidateOptions<RunbookEngineOptions>
{
    private const string Prefix = "RunbookEngine:GitHub:";

    public ValidateOptionsResult Validate(string? name, RunbookEngineOptions options)
    {
        var settings = options.GitHub;
        var errors = new List<string>();
        if (!Uri.TryCreate(settings.ApiUrl, UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
        {
            errors.Add($"{Prefix}ApiUrl must be an absolute http(s) URL (https://api.github.com/, or https://HOST/api/v3/ for GitHub Enterprise Server)");
        }

        if (!string.IsNullOrWhiteSpace(settings.Repository) && settings.OwnerAndName() is null)
        {
            errors.Add($"{Prefix}Repository must be owner/name (e.g. acme/runbooks)");
        }

        var hasToken = !string.IsNullOrEmpty(settings.Token);
        if (hasToken && settings.UsesApp)
        {
            errors.Add($"{Prefix}Token is set together with {Prefix}AppId, PrivateKeyPath or InstallationId; use a token or a GitHub App, not both");
        }
        else if (settings.UsesApp)
        {
            if (settings.AppId is not > 0)
            {
                errors.Add($"{Prefix}AppId must be set (the App's id) when {Prefix}PrivateKeyPath or InstallationId is");
            }

            if (settings.InstallationId is not > 0)
            {
                errors.Add($"{Prefix}InstallationId must be set (the App's installation on the repository) when {Prefix}AppId or PrivateKeyPath is");
            }

            if (string.IsNullOrWhiteSpace(settings.PrivateKeyPath))
            {
                errors.Add($"{Prefix}PrivateKeyPath must be set (the App's PEM private key) when {Prefix}AppId or InstallationId is");
            }
            else if (KeyProblem(settings.PrivateKeyPath) is { } problem)
            {
                errors.Add($"{Prefix}PrivateKeyPath: {problem}");
            }
        }

        if (settings.TestCasesTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{Prefix}TestCasesTimeout must be positive (how long a pull request's test cases may take together, e.g. 00:05:00)");
        }

        if (!Enum.IsDefined(settings.TestCases))
        {
            errors.Add($"{Prefix}TestCases must be Off, SameRepository or All");
        }

        if (settings.IsEnabled && !hasToken && !settings.UsesApp)
        {
            errors.Add($"{Prefix}Repository is set, so {Prefix}Token or a GitHub App ({Prefix}AppId, PrivateKeyPath, InstallationId) must be too");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string? KeyProblem(string path)
    {
        try
        {
            using var key = RSA.Create();
            key.ImportFromPem(File.ReadAllText(path));
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The path is the operator's own setting; the exception's text may say more than that, so it is not repeated.
            return $"the file {path} cannot be read";
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return $"the file {path} holds no RSA private key in PEM form";
        }
    }
}
