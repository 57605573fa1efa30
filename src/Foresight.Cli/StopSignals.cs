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

    public static CancellationToken Token => Requested.Token;

    /// <summary>Handles the two signals until disposed.</summary>
    public static IDisposable Register()
    {
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // keep running to the next step boundary
            Requested.Cancel();
        }
        return new Registrations(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop), PosixSignalRegistration.Create((PosixSignal)SigUsr1, Stop));
    }

    private sealed class Registrations(params PosixSignalRegistration[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }
}
