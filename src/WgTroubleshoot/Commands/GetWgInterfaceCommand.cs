using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets the live WireGuard interfaces of this host.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WgInterface")]
    [OutputType(typeof(WgInterface))]
    public sealed class GetWgInterfaceCommand : WgCmdlet
    {
        /// <summary>Interface names; wildcards are allowed. All interfaces when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Interface")]
        [ArgumentCompleter(typeof(InterfaceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; }

        protected override void ProcessRecord()
        {
            try
            {
                var reader = new WgStateReader(Runner);
                var devices = reader.ReadAll();
                var wanted = MatchNames(devices.Select(d => d.Interface.Name), Name, "").ToList();
                var selected = devices.Where(d => wanted.Contains(d.Interface.Name)).ToList();
                reader.AddLinkDetails(selected);
                foreach (var name in wanted)
                    WriteObject(selected.First(d => d.Interface.Name == name).Interface);
            }
            catch (WgException ex)
            {
                Fail(ex);
            }
        }
    }
}
