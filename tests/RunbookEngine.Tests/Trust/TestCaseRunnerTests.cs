using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Tests.Trust;

/// <summary>The case runner in process, on runbooks written for each rule of the format.</summary>
/// <remarks>
/// Alone: a case makes its scratch folder the process's working directory while it runs, which would move the relative
/// paths of any test running beside it.
/// </remarks>
[Collection(nameof(TestCaseRunnerTests))]
[CollectionDefinition(nameof(TestCaseRunnerTests), DisableParallelization = true)]
public sealed class TestCaseRunnerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-cases-").FullName;
    private readonly RunbookCompiler _compiler = new(null);

    [Fact]
    public async Task RunAsync_AnswersACallFromItsStubsInOrder_ThenRepeatsTheLast_AndGivesOnlyTheCasesSecrets()
    {
        Runbook("repeat", """
            var outputs = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                outputs.Add((await Shell("probe --once")).StdOut.Trim());
            }

            var statuses = new List<int>();
            for (var i = 0; i < 3; i++)
            {
                statuses.Add((int)(await Http.GetAsync("http://svc.internal/health")).StatusCode);
            }

            var said = string.Join(",", outputs) + " " + string.Join(",", statuses) + " " + Secrets.Get("TOKEN") + " " + (Secrets.TryGet("HOME") ?? "no HOME");
            await Step("check", ct => said == "a,b,b 503,200,200 t0ken no HOME" ? Task.CompletedTask : throw new RunbookFailedException(said));
            """);
        var file = Case("repeat", "in-order", """
            secrets: { TOKEN: t0ken }
            commands:
              - { run: probe --once, stdout: "a\n" }
              - { match: "^probe ", stdout: "b\n" }
            http:
              - { url: "http://svc.internal/health", responses: [ { status: 503 }, { status: 200 } ] }
            expect:
              steps: [ { name: check, status: Succeeded } ]
              status: Succeeded
            """);

        var result = await new TestCaseRunner(_compiler, TimeProvider.System).RunAsync(_folder, file, default);

        Assert.True(result.Passed, string.Join("\n", result.Failures));
    }

    [Fact]
    public async Task RunAsync_OfAShadowRunbook_ExpectsTheStepItProposes()
    {
        Runbook("shadowed", """
            await Step("look", ct => Task.CompletedTask);
            await Step("delete", ct => Task.CompletedTask, sideEffects: true);
            """, "mode: shadow");
        var passing = Case("shadowed", "proposes", "expect:\n  status: Proposed\n  proposal: delete\n");
        var failing = Case("shadowed", "wrong-proposal", "expect:\n  status: Succeeded\n  proposal: look\n");

        var runner = new TestCaseRunner(_compiler, TimeProvider.System);
        var passed = await runner.RunAsync(_folder, passing, default);
        var failed = await runner.RunAsync(_folder, failing, default);

        Assert.True(passed.Passed, string.Join("\n", passed.Failures));
        Assert.Equal(
            [new CaseFailure("status: expected Succeeded, the run ended Proposed", 2), new CaseFailure("proposal: expected step 'look', the run proposed 'delete'", 3)],
            failed.Failures);
    }

    [Fact]
    public async Task RunAsync_OfAQuestionTheCaseDoesNotAnswer_FailsNamingIt()
    {
        Runbook("asks", """
            await Approve("Restart the primary?");
            """);
        var file = Case("asks", "no-answer", "expect:\n  status: Failed\n");

        var result = await new TestCaseRunner(_compiler, TimeProvider.System).RunAsync(_folder, file, default);

        Assert.Equal([new CaseFailure("no answer for the approval 'Restart the primary?' (step 1); add one under humans:", 1)], result.Failures);
    }

    public void Dispose()
    {
        _compiler.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private void Runbook(string name, string code, string frontMatter = "") =>
        File.WriteAllText(Path.Combine(_folder, name + ".csx"), $"// ---\n// description: {name}\n{(frontMatter.Length > 0 ? "// " + frontMatter + "\n" : "")}// ---\n{code}\n");

    private string Case(string runbook, string name, string yaml)
    {
        var path = Path.Combine(_folder, "tests", runbook, name + ".yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, yaml);
        return path;
    }
}
