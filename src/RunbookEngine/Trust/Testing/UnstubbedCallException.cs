namespace RunbookEngine.Trust.Testing;

/// <summary>A call a case has no stub for: it fails the case, naming the call and its step.</summary>
/// <param name="message">Which call, and where.</param>
internal sealed class UnstubbedCallException(string message) : Exception(message);
