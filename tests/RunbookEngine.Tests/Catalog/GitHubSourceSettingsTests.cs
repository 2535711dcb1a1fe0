using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.Hosting;

namespace RunbookEngine.Tests.Catalog;

/// <summary>The <c>github</c> source as the engine's settings choose it, and what it refuses at start.</summary>
public sealed class GitHubSourceSettingsTests
{
    private static ServiceProvider Provider(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>("RunbookEngine:" + s.Key, s.Value))
                .Append(new KeyValuePair<string, string?>("RunbookEngine:DataPath", Directory.CreateTempSubdirectory("runbook-github-settings-").FullName)))
            .Build();
        var services = new ServiceCollection().AddRunbookEngine(configuration);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Source_github_follows_the_repository_branch_and_path_through_the_api()
    {
        using var provider = Provider(("Catalog:Source", "github"), ("Catalog:Git:Branch", "live"), ("Catalog:Git:Path", "ops/runbooks"), ("GitHub:Repository", "acme/runbooks"), ("GitHub:Token", "ghp_x"));

        var source = provider.GetRequiredService<IRunbookSourceProvider>();

        Assert.IsType<GitHubApiSource>(source);
        Assert.Equal(("github", "https://github.com/acme/runbooks (live, ops/runbooks, through the API)"), (source.Kind, source.Description));
    }

    [Fact]
    public void Source_github_without_a_repository_stops_the_host_with_a_clear_message()
    {
        using var provider = Provider(("Catalog:Source", "github"));

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value);

        Assert.Contains("RunbookEngine:Catalog:Source is github, so RunbookEngine:GitHub:Repository must be set (owner/name), with RunbookEngine:GitHub:Token or a GitHub App", error.Failures);
    }

    [Fact]
    public void An_unknown_source_is_refused_naming_the_three_there_are()
    {
        using var provider = Provider(("Catalog:Source", "svn"));

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value);

        Assert.Contains("RunbookEngine:Catalog:Source must be folder, git or github", error.Failures);
    }
}
