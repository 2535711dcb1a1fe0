using System.Security.Cryptography;
using RunbookEngine.GitHub;

namespace RunbookEngine.Tests.GitHub;

/// <summary>Settings that would only fail later, in the background, are refused at start with the setting named.</summary>
public sealed class GitHubValidationTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-github-settings-").FullName;

    [Fact]
    public void No_repository_and_no_credentials_is_valid_and_posts_nothing()
    {
        var options = new RunbookEngineOptions();

        Assert.True(new GitHubValidation().Validate(null, options).Succeeded);
        Assert.False(options.GitHub.IsEnabled);
    }

    [Fact]
    public void A_token_or_a_whole_app_is_valid()
    {
        var pem = Path.Combine(_folder, "app.pem");
        using var key = RSA.Create(2048);
        File.WriteAllText(pem, key.ExportRSAPrivateKeyPem());

        Assert.True(Validate(g => { g.Repository = "acme/runbooks"; g.Token = "ghp_x"; }).Succeeded);
        Assert.True(Validate(g => { g.Repository = "acme/runbooks"; g.AppId = 1; g.PrivateKeyPath = pem; g.InstallationId = 2; }).Succeeded);
    }

    [Theory]
    [InlineData("RunbookEngine:GitHub:Token is set together with", "token+app")]
    [InlineData("RunbookEngine:GitHub:PrivateKeyPath must be set", "app without key")]
    [InlineData("RunbookEngine:GitHub:InstallationId must be set", "app without installation")]
    [InlineData("RunbookEngine:GitHub:PrivateKeyPath: the file", "unreadable key")]
    [InlineData("holds no RSA private key", "not a key")]
    [InlineData("RunbookEngine:GitHub:Repository must be owner/name", "bad repository")]
    [InlineData("RunbookEngine:GitHub:ApiUrl must be an absolute http(s) URL", "bad api url")]
    [InlineData("RunbookEngine:GitHub:Repository is set, so RunbookEngine:GitHub:Token or a GitHub App", "no credentials")]
    [InlineData("RunbookEngine:GitHub:TestCasesTimeout must be positive", "no time for test cases")]
    [InlineData("RunbookEngine:GitHub:TestCases must be Off, SameRepository or All", "unknown test cases")]
    public void Half_configured_settings_are_refused_naming_the_setting(string expected, string @case)
    {
        var notAKey = Path.Combine(_folder, "not.pem");
        File.WriteAllText(notAKey, "hello");
        Action<GitHubOptions> configure = @case switch
        {
            "token+app" => g => { g.Repository = "acme/runbooks"; g.Token = "ghp_secret"; g.AppId = 1; },
            "app without key" => g => { g.Repository = "acme/runbooks"; g.AppId = 1; g.InstallationId = 2; },
            "app without installation" => g => { g.Repository = "acme/runbooks"; g.AppId = 1; g.PrivateKeyPath = notAKey; },
            "unreadable key" => g => { g.Repository = "acme/runbooks"; g.AppId = 1; g.InstallationId = 2; g.PrivateKeyPath = Path.Combine(_folder, "missing.pem"); },
            "not a key" => g => { g.Repository = "acme/runbooks"; g.AppId = 1; g.InstallationId = 2; g.PrivateKeyPath = notAKey; },
            "bad repository" => g => { g.Repository = "acme"; g.Token = "ghp_secret"; },
            "bad api url" => g => { g.ApiUrl = "ftp://example.com/"; },
            "no time for test cases" => g => { g.Repository = "acme/runbooks"; g.Token = "ghp_secret"; g.TestCasesTimeout = TimeSpan.Zero; },
            "unknown test cases" => g => { g.Repository = "acme/runbooks"; g.Token = "ghp_secret"; g.TestCases = (PullRequestTestCases)7; },
            _ => g => g.Repository = "acme/runbooks",
        };

        var result = Validate(configure);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_secret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_settings_as_text_mask_the_token_and_the_webhook_secret()
    {
        var text = new GitHubOptions { Repository = "acme/runbooks", Token = "ghp_secret", WebhookSecret = "hook-secret" }.ToString();

        Assert.DoesNotContain("ghp_secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hook-secret", text, StringComparison.Ordinal);
        Assert.Contains("acme/runbooks", text, StringComparison.Ordinal);
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(Action<GitHubOptions> configure)
    {
        var options = new RunbookEngineOptions();
        configure(options.GitHub);
        return new GitHubValidation().Validate(null, options);
    }
}
