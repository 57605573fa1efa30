namespace Foresight;

/// <summary>
/// A mistake in what the user asked for (a flag, a file, a run directory). The CLI prints the
/// message as one line and exits with code 2; anything else is a bug and keeps its stack trace.
/// </summary>
public sealed class UserError(string message) : Exception(message);
