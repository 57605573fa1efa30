using System.Runtime.InteropServices;

namespace Foresight.Cli;

/// <summary>
/// SIGTERM and SIGUSR1 (what a cluster sends before a time limit or a preemption) ask training to stop at the next
/// step boundary with its checkpoint written, instead of killing it mid-step; resuming then loses nothing.
/// </summary>
internal static class StopSignals
{
    /// <summary>The exit code of a run stopped this way (EX_TEMPFAIL): try again, it resumes.</summary>
    public const int ExitCode = 75;

    private const int SigUsr1 = 10; // Linux

    private static readonly CancellationTokenSource Requested = new();

    /// <summary>Held until the process exits: a signal in a finished run's last moments must not kill it (SIGUSR1's default action).</summary>
    private static PosixSignalRegistration[] _registrations = [];

    public static CancellationToken Token => Requested.Token;

    /// <summary>Handles the two signals from now until the process exits.</summary>
    public static void Register()
    {
        static void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // keep running to the next step boundary
            Requested.Cancel();
        }
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop), PosixSignalRegistration.Create((PosixSignal)SigUsr1, Stop)];
    }
}
