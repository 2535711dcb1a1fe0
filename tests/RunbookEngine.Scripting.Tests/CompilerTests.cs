using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Scripting.Tests;

public sealed class CompilerTests
{
    [Fact]
    public async Task Compile_WithLoad_InsideTheFolder_RunsTheHelper()
    {
        using var compiler = new RunbookCompiler(null);
        var source = RunbookSource.Load(Fixture.Folder("Good"), Path.Combine(Fixture.Folder("Good"), "hello.csx"));

        var result = await compiler.CompileAsync(source);
        var context = Context();
        await result.Runbook!.InvokeAsync(context);

        Assert.Empty(result.Errors);
        Assert.Equal(["hello.csx", "lib/greet.csx"], source.Files.Select(f => f.RelativePath));
        Assert.Equal("\"hello, world\"", context.Steps.Single().ResultJson);
    }

    [Fact]
    public async Task Compile_OfABrokenScript_ReturnsErrorsWithFileAndLine()
    {
        using var compiler = new RunbookCompiler(null);
        var folder = Fixture.Folder("CompileError");

        var result = await compiler.CompileAsync(RunbookSource.Load(folder, Path.Combine(folder, "broken.csx")));

        Assert.False(result.Success);
        var error = Assert.Single(result.Errors);
        Assert.Equal(("CS0103", 6, 65), (error.Code, error.Line, error.Column));
        Assert.EndsWith("broken.csx", error.File, StringComparison.Ordinal);
        Assert.Equal("The name 'missingVariable' does not exist in the current context", error.Message);
    }

    [Fact]
    public async Task Compile_WithLoad_OutsideTheFolder_IsAnError()
    {
        using var compiler = new RunbookCompiler(null);
        var folder = Fixture.Folder("Escape");

        var result = await compiler.CompileAsync(RunbookSource.Load(folder, Path.Combine(folder, "escape.csx")));

        var error = Assert.Single(result.Errors);
        Assert.Equal(("RB200", 4), (error.Code, error.Line));
        Assert.StartsWith("#load \"../outside.csx\" points outside the runbook folder", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, compiler.Compilations);
    }

    [Fact]
    public async Task Compile_OfTheSameSourceAfterARestart_HitsTheDiskCacheWithoutRoslyn()
    {
        var cache = Fixture.TempCache();
        var (root, path) = Fixture.Runbook($"await Step(\"unique\", ct => Task.FromResult(\"{Guid.NewGuid()}\"));");

        using var first = new RunbookCompiler(cache);
        var cold = await first.CompileAsync(RunbookSource.Load(root, path));
        using var second = new RunbookCompiler(cache);
        var warm = await second.CompileAsync(RunbookSource.Load(root, path));
        var context = Context();
        await warm.Runbook!.InvokeAsync(context);

        Assert.Equal((false, 1), (cold.FromCache, first.Compilations));
        Assert.Equal((true, 0), (warm.FromCache, second.Compilations));
        Assert.Equal(StepStatus.Succeeded, context.Steps.Single().Status);
    }

    [Fact]
    public async Task Compile_AfterAHelperChanges_MissesTheCache()
    {
        var cache = Fixture.TempCache();
        var (root, path) = Fixture.Runbook("#load \"lib/value.csx\"\nawait Step(\"read\", ct => Task.FromResult(Value));");
        Directory.CreateDirectory(Path.Combine(root, "lib"));
        File.WriteAllText(Path.Combine(root, "lib", "value.csx"), "const int Value = 1;");
        using var compiler = new RunbookCompiler(cache);

        var before = await compiler.CompileAsync(RunbookSource.Load(root, path));
        File.WriteAllText(Path.Combine(root, "lib", "value.csx"), "const int Value = 2;");
        var after = await compiler.CompileAsync(RunbookSource.Load(root, path));
        var context = Context();
        await after.Runbook!.InvokeAsync(context);

        Assert.NotEqual(before.Runbook!.ContentHash, after.Runbook.ContentHash);
        Assert.False(after.FromCache);
        Assert.Equal("2", context.Steps.Single().ResultJson);
    }

    [Fact]
    public async Task Compile_WithLoad_ThroughALinkedFolder_IsAnError()
    {
        var outside = Directory.CreateTempSubdirectory("runbook-outside-").FullName;
        File.WriteAllText(Path.Combine(outside, "evil.csx"), "static string Evil() => \"outside\";");
        var (root, path) = Fixture.Runbook("#load \"lib/evil.csx\"\nLog.Info(Evil());");
        Directory.CreateSymbolicLink(Path.Combine(root, "lib"), outside);
        using var compiler = new RunbookCompiler(null);

        var result = await compiler.CompileAsync(RunbookSource.Load(root, path));

        Assert.Equal("RB200", Assert.Single(result.Errors).Code);
    }

    [Fact]
    public async Task Compile_WithADamagedCachedImage_CompilesAgain()
    {
        var cache = Fixture.TempCache();
        var (root, path) = Fixture.Runbook($"// {Guid.NewGuid()}\nawait Task.CompletedTask;");
        using var compiler = new RunbookCompiler(cache);
        await compiler.CompileAsync(RunbookSource.Load(root, path));
        foreach (var image in Directory.GetFiles(cache, "*.dll"))
        {
            File.WriteAllText(image, "not a dll");
        }

        var again = await compiler.CompileAsync(RunbookSource.Load(root, path));

        Assert.True(again.Success);
        Assert.False(again.FromCache);
    }

    [Fact]
    public async Task Dispose_OfAVersionWhoseStepReturnedAScriptType_StillUnloads()
    {
        var (root, path) = Fixture.Runbook($"record Disk(string Mount, int Percent);\nvar d = await Step(\"measure\", ct => Task.FromResult(new Disk(\"/{Guid.NewGuid()}\", 93)));");
        using var compiler = new RunbookCompiler(null);

        var (weak, _) = await CompileRunAndDispose(compiler, root, path);
        CollectUntilDead(weak);

        Assert.False(weak.IsAlive, "a script-defined result type kept the load context alive");
    }

    [Fact]
    public async Task Compile_WithADamagedCacheEntry_CompilesAgain()
    {
        var cache = Fixture.TempCache();
        var (root, path) = Fixture.Runbook($"// {Guid.NewGuid()}\nawait Task.CompletedTask;");
        using var compiler = new RunbookCompiler(cache);
        await compiler.CompileAsync(RunbookSource.Load(root, path));
        foreach (var entry in Directory.GetFiles(cache, "*.json"))
        {
            File.WriteAllText(entry, "{ not json");
        }

        var again = await compiler.CompileAsync(RunbookSource.Load(root, path));

        Assert.True(again.Success);
        Assert.False(again.FromCache);
    }

    [Fact]
    public async Task Dispose_UnloadsTheVersion_LeavingNoAssemblyBehind()
    {
        var (root, path) = Fixture.Runbook($"await Step(\"s\", ct => Task.FromResult(new {{ Id = \"{Guid.NewGuid()}\" }}.Id));");
        using var compiler = new RunbookCompiler(null);

        var (weak, name) = await CompileRunAndDispose(compiler, root, path);
        CollectUntilDead(weak);

        Assert.False(weak.IsAlive, "the load context is still referenced after unload");
        Assert.DoesNotContain(AssemblyLoadContext.All, context => context.Name == name);
    }

    [Fact]
    public async Task Dispose_WhileARunHoldsALease_WaitsForTheRunToEnd()
    {
        var (root, path) = Fixture.Runbook("await Step(\"s\", ct => Task.CompletedTask);");
        using var compiler = new RunbookCompiler(null);
        var runbook = (await compiler.CompileAsync(RunbookSource.Load(root, path))).Runbook!;

        var lease = runbook.Lease();
        runbook.Dispose();
        var stillLoaded = !runbook.IsUnloaded;
        lease.Dispose();

        Assert.True(stillLoaded);
        Assert.True(runbook.IsUnloaded);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runbook.InvokeAsync(Context()));
    }

    private static void CollectUntilDead(WeakReference weak)
    {
        for (var i = 0; i < 20 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(WeakReference Weak, string? Name)> CompileRunAndDispose(RunbookCompiler compiler, string root, string path)
    {
        var runbook = (await compiler.CompileAsync(RunbookSource.Load(root, path))).Runbook!;
        await runbook.InvokeAsync(Context());
        var weak = runbook.LoadContextReference;
        var name = ((AssemblyLoadContext)weak.Target!).Name;
        runbook.Dispose();
        return (weak, name);
    }

    private static RunbookContext Context() => new(new RunbookContextSettings
    {
        Run = new RunInfo("run", "test", 1, RunTrigger.Manual, "tests", null, "hash", false),
        Parameters = new RunbookParameters(new Dictionary<string, object?> { ["who"] = "world" }),
    });
}
