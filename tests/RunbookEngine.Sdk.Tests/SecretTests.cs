using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk.Tests;

public sealed class SecretTests
{
    private const string Token = "s3cr3t-t0ken-value";

    [Fact]
    public async Task Secrets_AreRedacted_FromLogsStepOutputAndErrors()
    {
        var sink = new CollectingSink();
        var context = Some.Context(secrets: new DictionarySecrets(("api-token", Token)), sink: sink);

        var token = context.Secrets.Get("api-token");
        var error = await Assert.ThrowsAsync<StepFailedException>(() => context.Step("use token", async ct =>
        {
            context.Log.Info($"calling the API with {token}");
            await context.Shell($"echo Authorization: Bearer {token}", ct);
            throw new InvalidOperationException($"401 for token {token}");
        }));

        var outcome = context.Steps.Single();
        var everything = string.Join('\n', sink.Lines.Append(outcome.Output).Append(outcome.Error).Append(error.Message));
        Assert.DoesNotContain(Token, everything, StringComparison.Ordinal);
        Assert.Contains("calling the API with ***", everything, StringComparison.Ordinal);
        Assert.Contains("Authorization: Bearer ***", everything, StringComparison.Ordinal);
        Assert.Contains("401 for token ***", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStepResultHoldingASecret_IsReturnedButNotJournaled()
    {
        var context = Some.Context(secrets: new DictionarySecrets(("api-token", Token)));
        var token = context.Secrets.Get("api-token");

        var returned = await context.Step("fetch header", _ => Task.FromResult($"Bearer {token}"));

        var outcome = context.Steps.Single();
        Assert.Equal($"Bearer {Token}", returned);
        Assert.Null(outcome.ResultJson);
        Assert.Contains("the result holds a secret, so it is not journaled", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStepResultHoldingASecretThatJsonEscapes_IsNotJournaledEither()
    {
        const string escaping = "ab+cd<ef&gh==";
        var context = Some.Context(secrets: new DictionarySecrets(("b64", escaping)));
        var secret = context.Secrets.Get("b64");

        await context.Step("fetch", _ => Task.FromResult(new { token = secret }));

        var outcome = context.Steps.Single();
        Assert.Null(outcome.ResultJson);
        Assert.Contains("the result holds a secret", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecretInAQueryString_IsMasked_InTheStepOutputAndTheRecordedCall()
    {
        const string base64 = "ab+cd/ef==";
        var calls = new CollectingCalls();
        var server = new AnsweringHandler(_ => new StringContent("ok"));
        var context = Some.Context(secrets: new DictionarySecrets(("b64", base64)), http: server, calls: calls);
        var secret = context.Secrets.Get("b64");

        await context.Step("call", async ct =>
        {
            using var response = await context.Http.GetAsync(new Uri($"http://service.test/api?token={Uri.EscapeDataString(secret)}"), ct);
        });

        var recorded = calls.Http.Single();
        var output = context.Steps.Single().Output;
        Assert.Equal("http://service.test/api?token=ab%2Bcd%2Fef%3D%3D", server.Seen.Single());
        Assert.Equal("http://service.test/api?token=***", recorded.Url);
        Assert.Contains("GET http://service.test/api?token=*** answered 200", output, StringComparison.Ordinal);
        Assert.DoesNotContain("ab%2B", output + recorded.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStepWhoseSecretResultWasNotJournaled_IsNotRunAgainOnResume_UnlessIdempotent()
    {
        var journal = new InMemoryStepJournal();
        var ran = 0;
        var first = Some.Context(journal: journal, secrets: new DictionarySecrets(("api-token", Token)));
        await first.Step("create key", _ => Task.FromResult($"{first.Secrets.Get("api-token")}-{++ran}"));

        var resumed = Some.Context(journal: journal, secrets: new DictionarySecrets(("api-token", Token)));
        var refused = await Assert.ThrowsAsync<StepInterruptedException>(() => resumed.Step("create key", _ => Task.FromResult($"{++ran}")));
        var idempotent = Some.Context(journal: journal, secrets: new DictionarySecrets(("api-token", Token)));
        var again = await idempotent.Step("create key", _ => Task.FromResult($"again-{++ran}"), idempotent: true);

        Assert.Contains("its result was not journaled", refused.Message, StringComparison.Ordinal);
        Assert.Equal(("again-2", 2), (again, ran));
    }

    [Fact]
    public async Task SecretParameters_AreRedacted_WithoutBeingRead()
    {
        var sink = new CollectingSink();
        var parameters = new RunbookParameters(new Dictionary<string, object?> { ["password"] = "hunter2-db-pass", ["user"] = "app" }, ["password"]);
        var context = Some.Context(sink: sink, parameters: parameters);

        await context.Step("connect", _ =>
        {
            context.Log.Info("psql postgres://app:hunter2-db-pass@db/app");
            return Task.CompletedTask;
        });

        Assert.Equal("psql postgres://app:***@db/app", sink.Lines.Single());
        Assert.Equal("password=***, user=app", parameters.ToString());
    }

    [Fact]
    public async Task SecretsWithQuotes_AndInStepNames_AreRedactedToo()
    {
        const string quoted = "Tr0ub4dor'&3x";
        var sink = new CollectingSink();
        var context = Some.Context(secrets: new DictionarySecrets(("db", quoted)), sink: sink, dryRun: true);

        var secret = context.Secrets.Get("db");
        var dry = await context.Shell($"mysql --password={secret}");
        await context.Step($"log in with {secret}", _ => Task.CompletedTask);

        Assert.DoesNotContain(quoted, dry.CommandLine, StringComparison.Ordinal);
        Assert.DoesNotContain("Tr0ub4dor", string.Join('\n', sink.Lines), StringComparison.Ordinal);
        Assert.Equal("log in with ***", context.Steps.Single().Name);
    }

    [Fact]
    public async Task Shell_ReturnsTheRealOutputToTheScript_ButKeepsItMaskedInTheStep()
    {
        var context = Some.Context(secrets: new DictionarySecrets(("token", "abc-secret-123")));
        var token = context.Secrets.Get("token");

        var result = await context.Step("echo", ct => context.Shell($"echo {token}", ct));

        Assert.Equal("abc-secret-123\n", result.StdOut);
        Assert.DoesNotContain("abc-secret-123", context.Steps.Single().Output, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingSecret_SaysWhereToSetIt()
    {
        var context = Some.Context(secrets: new Hosting.EnvironmentSecretStore());

        var error = Assert.Throws<RunbookFailedException>(() => context.Secrets.Get("grafana-token"));

        Assert.Equal("secret 'grafana-token' is not configured; set the environment variable RUNBOOK_SECRET_GRAFANA_TOKEN", error.Message);
    }
}
