using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

// Compiler benchmarks for docs/benchmarks.md. `dotnet run -c Release --project bench/RunbookEngine.Benchmarks` prints a
// Markdown table; figures that need a fresh process are measured in child processes of this same program.
var mode = args.Length > 0 ? args[0] : "all";
return mode switch
{
    "cold-once" => await Child.ColdOnceAsync(args[1]),
    "cache-hit-once" => await Child.CacheHitOnceAsync(args[1], args[2]),
    "memory" => await Child.MemoryAsync(args[1]),
    _ => await Parent.RunAsync(),
};

internal static class Parent
{
    public static async Task<int> RunAsync()
    {
        var work = Directory.CreateTempSubdirectory("runbook-bench-").FullName;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        Console.WriteLine();
        Console.WriteLine("| figure | median | p90 | min | max | n |");
        Console.WriteLine("|---|---|---|---|---|---|");

        var cold = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            cold.Add(Child.Measure(ChildRun("cold-once", Small.Write(work, $"cold{i}")))["compileMs"]);
        }

        Row("cold compile of a small runbook, fresh process (ms)", cold);

        using (var compiler = new RunbookCompiler(null))
        {
            // Warm means the compiler has reached its steady state: Roslyn's own code tiered up by the JIT, as in a host that has run a while.
            for (var i = 0; i < 1000; i++)
            {
                (await compiler.CompileAsync(Small.Load(work, $"warmup{i}"))).Runbook!.Dispose();
            }

            // Versions stay loaded during the loop, as in a host that compiled a new commit; unloading is measured below.
            var warm = new List<double>();
            var loaded = new List<CompiledRunbook>();
            for (var i = 0; i < 200; i++)
            {
                var result = await compiler.CompileAsync(Small.Load(work, $"warm{i}"));
                warm.Add(result.Elapsed.TotalMilliseconds);
                loaded.Add(result.Runbook!);
            }

            loaded.ForEach(runbook => runbook.Dispose());
            Row("warm compile of a small runbook, distinct sources: Roslyn + load into a new context (ms)", warm);
        }

        var cache = Path.Combine(work, "cache");
        var cachedPath = Small.Write(work, "cached");
        var other = Small.Write(work, "cached-other");
        using (var compiler = new RunbookCompiler(cache))
        {
            (await compiler.CompileAsync(RunbookSource.Load(work, cachedPath))).Runbook!.Dispose();
            (await compiler.CompileAsync(RunbookSource.Load(work, other))).Runbook!.Dispose();
        }

        var hits = Enumerable.Range(0, 10).Select(_ => Child.Measure(ChildRun("cache-hit-once", cache, work))).ToList();
        Row("cache hit, fresh process: load image + first call of the first runbook (ms)", hits.Select(h => h["firstLoadMs"] + h["firstCallMs"]));
        Row("cache hit, fresh process: load image + first call of a second runbook (ms)", hits.Select(h => h["secondLoadMs"] + h["secondCallMs"]));
        Row("cache hit, fresh process: process start to first runbook finished (ms)", hits.Select(h => h["toResultMs"]));
        Console.WriteLine($"| Roslyn loaded in the cache-hit processes | {(hits.All(h => h["roslynLoaded"] == 0) ? "never" : "yes")} | | | | {hits.Count} |");

        await Invocation(work);
        await Memory(work);
        Directory.Delete(work, recursive: true);
        return 0;
    }

    private static async Task Invocation(string work)
    {
        using var compiler = new RunbookCompiler(null);
        var empty = (await compiler.CompileAsync(Small.Load(work, "empty", "await Task.CompletedTask;"))).Runbook!;
        var steps = (await compiler.CompileAsync(Small.Load(work, "steps", "await Step(\"a\", ct => Task.CompletedTask);\nawait Step(\"b\", ct => Task.CompletedTask);\nawait Step(\"c\", ct => Task.CompletedTask);"))).Runbook!;
        var context = Small.Context();
        for (var i = 0; i < 10_000; i++)
        {
            await empty.InvokeAsync(context);
        }

        var perCall = new List<double>();
        for (var round = 0; round < 10; round++)
        {
            const int calls = 100_000;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < calls; i++)
            {
                await empty.InvokeAsync(context);
            }

            perCall.Add(Stopwatch.GetElapsedTime(started).TotalNanoseconds / calls);
        }

        Row("invoke a compiled runbook with an empty body (ns per call)", perCall);

        var perRun = new List<double>();
        for (var round = 0; round < 10; round++)
        {
            const int runs = 10_000;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < runs; i++)
            {
                await steps.InvokeAsync(Small.Context());
            }

            perRun.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds / runs);
        }

        Row("run with 3 journaled no-op steps, in-memory journal (µs per run)", perRun);
        empty.Dispose();
        steps.Dispose();
    }

    private static Task Memory(string work)
    {
        var memory = Child.Measure(ChildRun("memory", work));
        var after10 = memory["rss10"];
        Console.WriteLine($"| resident memory after compiling, running and unloading 10 versions, fresh process (MB) | {after10:0.0} | | | | 1 |");
        foreach (var n in new[] { 100, 300, 1000 })
        {
            Console.WriteLine($"| ... after {n:N0} versions (MB) | {memory[$"rss{n}"]:0.0} ({(memory[$"rss{n}"] / after10 - 1) * 100:+0.0;-0.0}%) | | | | 1 |");
        }

        Console.WriteLine($"| live managed heap after 10 / 100 / 300 / 1,000 versions (MB) | {memory["heap10"]:0.0} / {memory["heap100"]:0.0} / {memory["heap300"]:0.0} / {memory["heap1000"]:0.0} | | | | 1 |");
        Console.WriteLine($"| runbook load contexts still alive after 1,000 versions | {memory["contexts"]} | | | | 1 |");
        return Task.CompletedTask;
    }

    public static double Rss()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64 / 1024.0 / 1024.0;
    }

    private static string[] ChildRun(params string[] arguments) => arguments;

    private static void Row(string figure, IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToList();
        string F(double v) => v.ToString(v < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
        var p90 = sorted[(int)Math.Ceiling(sorted.Count * 0.9) - 1];
        Console.WriteLine($"| {figure} | {F(sorted[sorted.Count / 2])} | {F(p90)} | {F(sorted[0])} | {F(sorted[^1])} | {sorted.Count} |");
    }
}

internal static class Child
{
    private static readonly long ProcessStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime().Ticks;

    public static Dictionary<string, double> Measure(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(Child).Assembly.Location);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return JsonSerializer.Deserialize<Dictionary<string, double>>(output.Trim().Split('\n')[^1])!;
    }

    public static async Task<int> MemoryAsync(string work)
    {
        using var compiler = new RunbookCompiler(null);
        var rss = new Dictionary<string, double>();
        for (var i = 1; i <= 1000; i++)
        {
            var result = await compiler.CompileAsync(Small.Load(work, $"mem{i}"));
            await result.Runbook!.InvokeAsync(Small.Context());
            result.Runbook.Dispose();
            File.Delete(Path.Combine(work, $"mem{i}.csx"));
            if (i is 10 or 100 or 300 or 1000)
            {
                rss[$"rss{i}"] = Parent.Rss();
                rss[$"heap{i}"] = GC.GetTotalMemory(forceFullCollection: true) / 1024.0 / 1024.0;
                rss[$"jit{i}"] = System.Runtime.JitInfo.GetCompiledILBytes() / 1024.0 / 1024.0;
            }
        }

        rss["contexts"] = System.Runtime.Loader.AssemblyLoadContext.All.Count(c => c.Name?.StartsWith("runbook:", StringComparison.Ordinal) == true);
        Console.WriteLine(JsonSerializer.Serialize(rss));
        return 0;
    }

    public static async Task<int> ColdOnceAsync(string path)
    {
        var started = Stopwatch.GetTimestamp();
        using var compiler = new RunbookCompiler(null);
        var result = await compiler.CompileAsync(RunbookSource.Load(Path.GetDirectoryName(path)!, path));
        var compileMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double> { ["compileMs"] = compileMs, ["ok"] = result.Success ? 1 : 0 }));
        return 0;
    }

    public static async Task<int> CacheHitOnceAsync(string cache, string work)
    {
        using var compiler = new RunbookCompiler(cache);
        var (firstLoad, firstCall) = await LoadAndCall(compiler, work, "cached");
        var toResult = (TimeProvider.System.GetUtcNow().UtcTicks - ProcessStarted) / (double)TimeSpan.TicksPerMillisecond;
        var (secondLoad, secondCall) = await LoadAndCall(compiler, work, "cached-other");
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double>
        {
            ["firstLoadMs"] = firstLoad,
            ["firstCallMs"] = firstCall,
            ["secondLoadMs"] = secondLoad,
            ["secondCallMs"] = secondCall,
            ["toResultMs"] = toResult,
            ["roslynLoaded"] = RunbookCompiler.IsRoslynLoaded ? 1 : 0,
            ["compilations"] = compiler.Compilations,
        }));
        return 0;
    }

    private static async Task<(double LoadMs, double CallMs)> LoadAndCall(RunbookCompiler compiler, string work, string name)
    {
        var source = RunbookSource.Load(work, Path.Combine(work, name + ".csx"));
        var started = Stopwatch.GetTimestamp();
        var result = await compiler.CompileAsync(source);
        var loaded = Stopwatch.GetTimestamp();
        if (!result.FromCache)
        {
            throw new InvalidOperationException("expected a cache hit");
        }

        await result.Runbook!.InvokeAsync(Small.Context());
        var called = Stopwatch.GetTimestamp();
        return (Stopwatch.GetElapsedTime(started, loaded).TotalMilliseconds, Stopwatch.GetElapsedTime(loaded, called).TotalMilliseconds);
    }
}

/// <summary>The "small runbook" measured throughout: front matter, a parameter, two steps, a log line.</summary>
internal static class Small
{
    public static string Write(string folder, string name, string? body = null)
    {
        var path = Path.Combine(folder, name + ".csx");
        File.WriteAllText(path, $$"""
            // ---
            // description: benchmark runbook {{name}}
            // parameters:
            //   target: { type: string, default: localhost }
            // timeout: 1m
            // ---
            {{body ?? $$"""
            var target = Params.Get<string>("target", "localhost");
            var count = await Step("count {{name}}", ct => Task.FromResult(target.Length));
            await Step("report", ct => { Log.Debug($"{target}: {count}"); return Task.CompletedTask; });
            """}}
            """);
        return path;
    }

    public static RunbookSource Load(string folder, string name, string? body = null) => RunbookSource.Load(folder, Write(folder, name, body));

    public static RunbookContext Context() => new(new RunbookContextSettings
    {
        Run = new RunInfo("bench", "bench", 1, RunTrigger.Manual, "bench", null, "hash", false),
    });
}
