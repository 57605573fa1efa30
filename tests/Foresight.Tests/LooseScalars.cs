using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Foresight.Tests;

/// <summary>
/// Finds the tensor operations of an assembly that hand libtorch a Scalar nothing keeps alive. TorchSharp 0.107 turns a C#
/// number into a <c>TorchSharp.Scalar</c> (implicitly, or inside its own operators and overloads, as <c>a + b</c>'s alpha)
/// and passes only its native handle on; a garbage collection during the native call can finalise it while libtorch
/// reads it (dotnet/TorchSharp pull requests #1434 and #1496). Which TorchSharp methods do that is read from
/// TorchSharp.dll itself: a method that makes a Scalar from a number and never disposes one, and every TorchSharp
/// method that calls such a method, transitively.
/// </summary>
internal static class LooseScalars
{
    private const string ScalarType = "TorchSharp.Scalar";
    private const string TensorType = "TorchSharp.torch/Tensor";
    private const string ScalarExtensions = "TorchSharp.ScalarExtensionMethods";

    private static readonly Lazy<HashSet<string>> LooseInTorchSharp = new(() =>
        Loose(ModuleDefinition.ReadModule(typeof(TorchSharp.torch).Assembly.Location)));

    /// <summary>
    /// "Type.Method: calls X" for every call in <paramref name="assembly"/> that makes a Scalar from a number
    /// (op_Implicit, ToScalar) outside a type named <paramref name="holder"/>, or that calls a TorchSharp method that does
    /// (the holder's calls too: what it hands its held Scalars to must not make loose ones of its own).
    /// </summary>
    public static List<string> In(string assembly, string holder)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        using var module = ModuleDefinition.ReadModule(assembly);
        foreach (var type in module.GetTypes())
        {
            var outermost = ArchitectureTests.Outermost(type);
            bool holds = outermost.Name == holder; // makes its Scalars from numbers, and holds them
            foreach (var method in type.Methods.Where(m => m.HasBody))
                foreach (var called in Calls(method))
                    if ((MakesScalar(called) && !holds) || MakesTensor(called) || LooseInTorchSharp.Value.Contains(Key(called)))
                        found.Add($"{outermost.FullName}.{Readable(method)}: calls {called.DeclaringType.Name}.{called.Name}({string.Join(", ", called.Parameters.Select(p => p.ParameterType.Name))})");
        }
        return [.. found];
    }

    /// <summary>The TorchSharp methods that pass on a Scalar made from a number without holding it, as <see cref="Key"/>s.</summary>
    private static HashSet<string> Loose(ModuleDefinition torchSharp)
    {
        var methods = torchSharp.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody).ToList();
        var callers = new Dictionary<string, List<MethodDefinition>>();
        var loose = new HashSet<string>();
        var queue = new Queue<string>();
        foreach (var method in methods)
        {
            var calls = Calls(method).ToList();
            foreach (var called in calls)
            {
                string key = Key(called);
                if (!callers.TryGetValue(key, out var list)) callers[key] = list = [];
                list.Add(method);
            }
            bool makes = calls.Any(MakesScalar);
            bool disposes = calls.Any(c => c.DeclaringType.FullName == ScalarType && c.Name == "Dispose");
            if (makes && !disposes && loose.Add(Key(method))) queue.Enqueue(Key(method));
        }
        void Spread()
        {
            while (queue.TryDequeue(out var key))
                foreach (var caller in callers.GetValueOrDefault(key) ?? [])
                    if (loose.Add(Key(caller))) queue.Enqueue(Key(caller));
        }
        Spread();
        // A module whose forward is loose is reached through Module<T, TResult>.forward: making one counts as the call.
        foreach (var type in torchSharp.GetTypes().Where(t => t.Namespace == "TorchSharp.Modules" && t.Methods.Any(m => m.Name == "forward" && loose.Contains(Key(m)))))
            foreach (var constructor in type.Methods.Where(m => m.IsConstructor && !m.IsStatic))
                if (loose.Add(Key(constructor))) queue.Enqueue(Key(constructor));
        Spread();
        // A call through a virtual method reaches whichever override the object has.
        foreach (var method in methods.Where(m => m.IsVirtual && loose.Contains(Key(m))))
            foreach (var overridden in Overridden(method))
                loose.Add(Key(overridden));
        return loose;
    }

    /// <summary>The methods of the base types that <paramref name="method"/> overrides (same name and parameters).</summary>
    private static IEnumerable<MethodDefinition> Overridden(MethodDefinition method)
    {
        for (var type = method.DeclaringType.BaseType?.Resolve(); type is not null; type = type.BaseType?.Resolve())
            foreach (var candidate in type.Methods)
                if (candidate.IsVirtual && candidate.Name == method.Name && Parameters(candidate) == Parameters(method))
                    yield return candidate;
    }

    /// <summary>A tensor made implicitly from a number (as <c>where(mask, -1, t)</c> does): a temporary nothing holds outside a dispose scope.</summary>
    private static bool MakesTensor(MethodReference called) =>
        called.DeclaringType.FullName == TensorType && called.Name == "op_Implicit" && called.Parameters[0].ParameterType.IsPrimitive;

    private static bool MakesScalar(MethodReference called) =>
        (called.DeclaringType.FullName == ScalarType && called.Name == "op_Implicit") ||
        (called.DeclaringType.FullName == ScalarExtensions && called.Name == "ToScalar");

    private static IEnumerable<MethodReference> Calls(MethodDefinition method) =>
        method.Body.Instructions
            .Where(i => i.OpCode.Code is Code.Call or Code.Callvirt or Code.Newobj or Code.Ldftn or Code.Ldvirtftn)
            .Select(i => i.Operand).OfType<MethodReference>()
            .Select(m => m is GenericInstanceMethod g ? g.ElementMethod : m);

    /// <summary>A method's identity that a call site in another assembly and the definition agree on.</summary>
    private static string Key(MethodReference method) => $"{method.DeclaringType.GetElementType().FullName}::{method.Name}({Parameters(method)})";

    private static string Parameters(MethodReference method) => string.Join(",", method.Parameters.Select(p => p.ParameterType.FullName));

    /// <summary>A method's name as its source says it: a lambda or local function by the method it is written in.</summary>
    private static string Readable(MethodDefinition method) =>
        System.Text.RegularExpressions.Regex.Match(method.Name, @"^<(\w+)>") is { Success: true } m ? $"{m.Groups[1].Value} (a lambda)" : method.Name;
}
