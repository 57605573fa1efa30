// Types for ArchitectureTests' check of its own scanner: each class in Low names a type of High in one way, and the
// scanner must find every one of them (Clean names none). Nothing else uses them.
namespace Foresight.Tests.Layering.High
{
    public sealed class Target
    {
        public static int Value => 1;
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class MarkAttribute : Attribute;
}

namespace Foresight.Tests.Layering.Low
{
    public sealed class InSignature
    {
        public static High.Target? Make() => null;
    }

    public sealed class InBody
    {
        public static int Read() => High.Target.Value;
    }

    public sealed class InLambda
    {
        public static Func<int> Reader() => () => High.Target.Value;
    }

    [High.Mark]
    public sealed class InAttribute;

    public sealed class InGenericArgument
    {
        public static int Count() => new List<High.Target>().Count;
    }

    public sealed class Clean
    {
        public static int Read() => 1;
    }
}
