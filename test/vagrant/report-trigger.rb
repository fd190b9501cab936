# Runs the Vagrantfile's report-copy trigger (ISOLAB_RUN_LAB=1) against a fake machine whose
# "guest" is the directory GUEST_ROOT on this host: commands run locally with /vagrant and /tmp
# rewritten into GUEST_ROOT, and download is a file copy. Prints JSON: messages and copied files.
#   ruby report-trigger.rb GUEST_ROOT HOST_ROOT     (cwd: the repo root)
require 'vagrant'
require 'json'
require 'fileutils'

guest_root, host_root = ARGV.fetch(0), ARGV.fetch(1)
env = Vagrant::Environment.new(cwd: Dir.pwd)
config = env.vagrantfile.machine_config(:default, :libvirt, env.boxes, nil, false)[:config]
trigger = config.trigger.after_triggers.find { |t| Array(t.command).include?(:provision) }
raise 'no after-provision trigger' unless trigger&.ruby_block

# Fake communicator: the guest's /vagrant and /tmp live under guest_root.
class FakeCommunicator
  def initialize(root)
    @root = root
  end

  def map(text)
    text.gsub(%r{(?<![\w/])/(vagrant|tmp)(?=/|\s|$)}) { "#{@root}/#{Regexp.last_match(1)}" }
  end

  def test(cmd, _opts = nil)
    system('bash', '-c', map(cmd))
  end

  def sudo(cmd, _opts = nil)
    system('bash', '-c', map(cmd)) || raise("guest command failed: #{cmd}")
  end

  def download(from, to)
    FileUtils.cp(map(from), to)
  end
end

# Fake UI recording what the trigger says.
class FakeUi
  attr_reader :messages

  def initialize
    @messages = []
  end

  def warn(msg) = @messages << ['warn', msg]
  def info(msg) = @messages << ['info', msg]
end

Machine = Struct.new(:communicate, :ui)
FakeEnv = Struct.new(:root_path)
machine = Machine.new(FakeCommunicator.new(guest_root), FakeUi.new)
error = nil
begin
  trigger.ruby_block.call(FakeEnv.new(Pathname.new(host_root)), machine)
rescue StandardError => e
  error = e.message
end
dest = File.join(host_root, 'reports', 'vagrant')
files = Dir.exist?(dest) ? Dir.children(dest).sort : nil
puts JSON.generate({ 'messages' => machine.ui.messages, 'files' => files, 'error' => error,
                     'staging_left' => Dir.exist?("#{dest}.incoming") })
