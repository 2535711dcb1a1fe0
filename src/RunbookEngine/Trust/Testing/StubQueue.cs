namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Picks the stub for a call: of the stubs that answer it, the first not used yet, else the last of them again, so a
/// list of answers plays out in order and its last answer repeats (a health check that keeps failing).
/// </summary>
internal sealed class StubQueue<T>(IReadOnlyList<T> stubs)
    where T : class
{
    private readonly HashSet<int> _used = [];
    private readonly Lock _gate = new();

    public T? Take(Func<T, bool> answers)
    {
        lock (_gate)
        {
            var last = -1;
            for (var i = 0; i < stubs.Count; i++)
            {
                if (!answers(stubs[i]))
                {
                    continue;
                }

                if (_used.Add(i))
                {
                    return stubs[i];
                }

                last = i;
            }

            return last < 0 ? null : stubs[last];
        }
    }
}
