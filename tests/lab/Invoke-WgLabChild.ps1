# The child side of Invoke-WgLabPwsh: runs inside a lab namespace, imports the module under test, runs
# the script and writes its output (and errors) as CliXml for the parent to import.
param(
    [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ScriptPath,
    [Parameter(Mandatory)] [string] $ArgsPath,
    [Parameter(Mandatory)] [string] $OutPath,
    [Parameter(Mandatory)] [string] $ErrPath,
    [Parameter(Mandatory)] [string] $FailPath,
    [switch] $AllStreams
)
$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'

function Invoke-LabUserScript {
    [CmdletBinding()]
    param([scriptblock] $Body, [object[]] $Arguments)
    & $Body @Arguments
}

try {
    if ($ModulePath) { Import-Module $ModulePath -ErrorAction Stop }
    $body = [scriptblock]::Create([System.IO.File]::ReadAllText($ScriptPath))
    $arguments = @(Import-Clixml -LiteralPath $ArgsPath)
    $ev = @()
    if ($AllStreams) {
        $out = & $body @arguments *>&1
    }
    else {
        $out = Invoke-LabUserScript -Body $body -Arguments $arguments -ErrorVariable ev 2>$null
    }
    if ($null -eq $out) { @() | Export-Clixml -LiteralPath $OutPath -Depth 4 }
    else { $out | Export-Clixml -LiteralPath $OutPath -Depth 4 }
    if ($ev) { @($ev) | Export-Clixml -LiteralPath $ErrPath -Depth 3 }
    exit 0
}
catch {
    $_ | Export-Clixml -LiteralPath $FailPath -Depth 3
    exit 3
}
