namespace Foresight.Cli;

/// <summary>
/// A diagnostic for the test suite: with FORESIGHT_GC_STRESS=1 a background thread forces garbage collections and runs
/// finalisers without pause, so an object that native code still reads but nothing managed keeps alive (a TorchSharp
/// Scalar made from a C# number inside an operator) is finalised mid-call as often as the timing allows.
/// </summary>
internal static class GcStress
{
    public const string Variable = "FORESIGHT_GC_STRESS";

    public static void StartIfAsked()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1") return;
        var thread = new Thread(() =>
        {
            while (true)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true, Name = "gc-stress" };
        thread.Start();
    }
}
