namespace RunbookEngine.Trust.GameDays;

/// <summary>A phase of a game day failed; the message says which and why, for the game day's error.</summary>
internal sealed class GameDayFailedException : Exception
{
    public GameDayFailedException()
    {
    }

    public GameDayFailedException(string message)
        : base(message)
    {
    }

    public GameDayFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
