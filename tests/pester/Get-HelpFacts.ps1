# Runs in a child pwsh: imports one module and prints JSON facts about its cmdlets' metadata and help.
param([Parameter(Mandatory)] [string] $ModulePath)
$ErrorActionPreference = 'Stop'

$module = Import-Module $ModulePath -PassThru -Force
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + @('UseTransaction')

function Split-Aliases($text) {
    if (-not $text -or $text -eq 'none') { return @() }
    @($text -split ',\s*' | Where-Object { $_ })
}

$commands = foreach ($name in $module.ExportedCmdlets.Keys | Sort-Object) {
    $cmd = Get-Command $name
    $help = Get-Help $name -Full
    $syntax = (Get-Command $name -Syntax | Out-String).Trim()
    $codeParameters = foreach ($p in $cmd.Parameters.Values | Where-Object { $_.Name -notin $common }) {
        @{
            ParameterName = $p.Name
            TypeName      = $p.ParameterType.Name
            TypeFullName  = $p.ParameterType.FullName
            Aliases       = @($p.Aliases | Sort-Object)
            Sets          = @(foreach ($kv in $p.ParameterSets.GetEnumerator()) {
                    @{ SetName = $kv.Key; Mandatory = $kv.Value.IsMandatory; Position = $kv.Value.Position
                        ByValue = $kv.Value.ValueFromPipeline; ByPropertyName = $kv.Value.ValueFromPipelineByPropertyName }
                })
        }
    }
    $codeSets = foreach ($set in $cmd.ParameterSets) {
        @{
            SetName    = $set.Name
            Parameters = @(foreach ($p in $set.Parameters | Where-Object { $_.Name -notin $common }) {
                    @{ ParameterName = $p.Name; Mandatory = $p.IsMandatory; Position = $p.Position
                        ByValue = $p.ValueFromPipeline; ByPropertyName = $p.ValueFromPipelineByPropertyName }
                })
        }
    }
    $helpParameters = foreach ($p in @($help.parameters.parameter)) {
        if (-not $p) { continue }
        @{
            ParameterName  = "$($p.name)"
            Required       = "$($p.required)"
            Position       = "$($p.position)"
            PipelineInput  = "$($p.pipelineInput)"
            Aliases        = @(Split-Aliases "$($p.aliases)" | Sort-Object)
            TypeName       = "$($p.type.name)"
            ParameterValue = "$($p.parameterValue)".Trim()
            Description    = (@($p.description | ForEach-Object { $_.Text }) -join "`n").Trim()
        }
    }
    # A list, so that one syntax item's parameter array is not unrolled into several items.
    $helpSyntax = [System.Collections.Generic.List[object]]::new()
    foreach ($item in @($help.syntax.syntaxItem)) {
        if (-not $item) { continue }
        $helpSyntax.Add(@(foreach ($p in @($item.parameter)) {
                    if (-not $p) { continue }
                    @{ ParameterName = "$($p.name)"; Required = "$($p.required)"; Position = "$($p.position)"; PipelineInput = "$($p.pipelineInput)" }
                }))
    }
    @{
        CommandName     = $name
        Synopsis        = "$($help.Synopsis)".Trim()
        Syntax          = $syntax
        Description     = (@($help.description | ForEach-Object { $_.Text }) -join "`n").Trim()
        ExampleCount    = @($help.examples.example | Where-Object { $_ -and "$($_.code)".Trim() }).Count
        CodeParameters  = @($codeParameters)
        CodeSets        = @($codeSets)
        HelpParameters  = @($helpParameters)
        HelpSyntax      = $helpSyntax.ToArray()
    }
}

$aboutImported = (Get-Help about_WgTroubleshoot -ErrorAction SilentlyContinue | Out-String)

# Without importing: a module folder on PSModulePath (<root>/<Name>/<version>/) must be enough.
$aboutFromPath = $null
$versionDir = Split-Path $module.ModuleBase -Leaf
$nameDir = Split-Path (Split-Path $module.ModuleBase) -Leaf
if ($nameDir -eq $module.Name -and $versionDir -as [version]) {
    $root = Split-Path (Split-Path $module.ModuleBase)
    $quoted = "'" + ($root -replace "'", "''") + "'"
    $command = "`$env:PSModulePath = $quoted + [IO.Path]::PathSeparator + `$env:PSModulePath; Get-Help about_WgTroubleshoot -ErrorAction SilentlyContinue | Out-String"
    $aboutFromPath = (& (Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })) -NoProfile -NonInteractive -Command $command) -join "`n"
}

@{
    ModuleName    = $module.Name
    ModuleBase    = $module.ModuleBase
    Commands      = @($commands)
    AboutImported = $aboutImported
    AboutFromPath = $aboutFromPath
    AboutFileLines = @(Get-ChildItem (Join-Path $module.ModuleBase 'en-US') -Filter 'about_WgTroubleshoot.help.txt' -ErrorAction SilentlyContinue |
            Select-Object -First 1 | Get-Content)
} | ConvertTo-Json -Depth 10
