using System.Collections.Generic;
using WgTroubleshoot.Snapshot;

namespace WgTroubleshoot.Checks
{
    /// <summary>Convenience base: a name, the sources needed, and Evaluate.</summary>
    public abstract class CheckBase : ICheck
    {
        protected CheckBase(string name, params string[] needs)
        {
            Name = name;
            Needs = needs;
        }

        public string Name { get; }
        public IReadOnlyList<string> Needs { get; }
        public abstract IEnumerable<Finding> Evaluate(CheckContext context);
    }
}
