namespace Foresight;

/// <summary>
/// A mistake in what the user asked for (a flag, a file, a run directory). The CLI prints the
/// message as one line and exits with code 2; anything else is a bug and keeps its stack trace.
/// </summary>
public class UserError(string message) : Exception(message);

/// <summary>
/// A config value out of its range, named by its field in the run's config ("training.batch_size",
/// "diffusion.steps"); the problem may name other fields the same way. The CLI prints each field as the
/// flag that sets it, an experiment file's loader as the file's own field.
/// </summary>
public sealed class ConfigError(string field, string problem) : UserError($"{field} {problem}")
{
    public string Field { get; } = field;
}
