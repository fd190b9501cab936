# Prints, as JSON, what Vagrant itself parsed from the Vagrantfile in the current directory for
# the libvirt and virtualbox providers (without requiring either provider to be usable here).
# Used by vagrantfile.test.ts; run with the repo root as the working directory.
require 'vagrant'
require 'json'

env = Vagrant::Environment.new(cwd: Dir.pwd)

def provider_facts(provider_config)
  names = %i[@driver @cpus @memory @nested @cpu_mode @customizations]
  names.each_with_object({}) do |ivar, facts|
    next unless provider_config.instance_variable_defined?(ivar)

    value = provider_config.instance_variable_get(ivar)
    facts[ivar.to_s.delete('@')] = value.is_a?(Symbol) ? value.to_s : value
  end
end

out = { 'providers' => {} }
%i[libvirt virtualbox].each do |provider|
  result = env.vagrantfile.machine_config(:default, provider, env.boxes, nil, false)
  out['providers'][provider.to_s] = provider_facts(result[:config].vm.get_provider_config(provider))
  next unless provider == :libvirt

  vm = result[:config].vm
  out['box'] = vm.box
  out['provisioners'] = vm.provisioners.map do |p|
    { 'name' => p.name.to_s, 'type' => p.type.to_s, 'inline' => p.config.inline,
      'privileged' => p.config.privileged }
  end
  out['synced_folders'] = vm.synced_folders.values.map do |f|
    { 'hostpath' => f[:hostpath], 'guestpath' => f[:guestpath], 'type' => f[:type].to_s,
      'disabled' => f[:disabled] ? true : false, 'exclude' => f[:rsync__exclude] }
  end
  out['after_triggers'] = result[:config].trigger.after_triggers.map do |t|
    { 'name' => t.name, 'command' => Array(t.command).map(&:to_s), 'ruby' => !t.ruby_block.nil? }
  end
end
puts JSON.generate(out)
